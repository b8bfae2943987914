import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { Teardown } from '@pulse/testing'
import { Browser, eventually, startE2E } from './helper.js'

/*
 * One trace across the real processes: a creator connects Twitch on the simulator, and the spans
 * every service exports (OTLP over HTTP, JSON, to a collector of this test's own) join into one trace
 * from the gateway through auth (its call to the provider, its outbox), NATS, twitch-ingest's
 * consumer, its calls to the provider and its Postgres writes, every span's parent in the same trace.
 */

const KIND = { server: 2, client: 3, producer: 4, consumer: 5 } as const
interface Span { service: string, traceId: string, spanId: string, parentSpanId: string, name: string, kind: number, attributes: Record<string, unknown> }
interface OtlpValue { stringValue?: string, intValue?: number | string, boolValue?: boolean, doubleValue?: number }
interface OtlpAttribute { key: string, value: OtlpValue }
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] }
    scopeSpans?: Array<{ spans?: Array<{ traceId: string, spanId: string, parentSpanId?: string, name: string, kind: number, attributes?: OtlpAttribute[] }> }>
  }>
}
const valueOf = (v: OtlpValue): unknown => v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue
const attributesOf = (list: OtlpAttribute[] = []) => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]))

/** A stand-in OTLP/HTTP collector: keeps every span it is sent. */
async function startCollector (t: Teardown) {
  const spans: Span[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport
      for (const rs of body.resourceSpans ?? []) {
        const service = String(attributesOf(rs.resource?.attributes)['service.name'])
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({ service, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, kind: s.kind, attributes: attributesOf(s.attributes) })
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans }
}

t.test('connecting Twitch is one trace: gateway → auth → provider → outbox → NATS → twitch-ingest → provider → Postgres', async (t) => {
  const collector = await startCollector(t)
  const e2e = await startE2E(t, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_TRACES_SAMPLER_ARG: '1' })
  const creator = new Browser(e2e.gateway)
  t.equal((await creator.fetch('/auth/register', { method: 'POST', body: { username: 'traced', password: 'a good long password' } })).status, 201)
  const start = await creator.fetch('/auth/twitch/login?returnTo=/dashboard')
  t.equal(start.status, 302)
  const consent = new URL(start.headers.get('location')!)
  consent.searchParams.set('sim_user', 'sim_mid')
  consent.searchParams.set('sim_decision', 'approve')
  await creator.follow(consent.toString())

  const callbackTrace = () => collector.spans.find((s) => s.service === 'gateway' && s.kind === KIND.server && String(s.attributes['url.path'] ?? s.attributes['http.route'] ?? s.name).includes('/auth/twitch/callback'))?.traceId ??
    collector.spans.find((s) => s.service === 'auth' && s.kind === KIND.server && String(s.attributes['http.route'] ?? s.name).includes('callback'))?.traceId
  const complete = (trace: Span[]) => {
    const has = (service: string, kind: number, test: (s: Span) => boolean = () => true) => trace.some((s) => s.service === service && s.kind === kind && test(s))
    return has('gateway', KIND.server) && has('auth', KIND.server) &&
      has('auth', KIND.client, (s) => s.name.startsWith('pg ')) && has('auth', KIND.producer, (s) => s.name.includes('connection.linked')) &&
      has('twitch-ingest', KIND.consumer, (s) => s.name.includes('connection.linked')) &&
      has('twitch-ingest', KIND.client, (s) => String(s.attributes['url.full'] ?? '').includes('/helix/')) &&
      has('twitch-ingest', KIND.client, (s) => s.name.startsWith('pg insert')) &&
      // A parent span is exported when it ends, after its children: wait until every one has arrived.
      trace.every((s) => s.parentSpanId === '' || trace.some((p) => p.spanId === s.parentSpanId))
  }
  const trace = await eventually(async () => {
    const id = callbackTrace()
    return id === undefined ? [] : collector.spans.filter((s) => s.traceId === id)
  }, complete, 60_000, 'the trace of the Twitch callback reaches twitch-ingest\'s provider calls and writes')

  const ids = new Set(trace.map((s) => s.spanId))
  const roots = trace.filter((s) => s.parentSpanId === '')
  t.equal(roots.length, 1, 'one root span')
  t.match(roots[0], { service: 'gateway', kind: KIND.server }, 'the root is the gateway\'s answer to the browser')
  t.same(trace.filter((s) => s.parentSpanId !== '' && !ids.has(s.parentSpanId)).map((s) => `${s.service}: ${s.name}`), [], 'every other span\'s parent is in the trace')
  const services = new Set(trace.map((s) => s.service))
  t.ok(services.has('gateway') && services.has('auth') && services.has('twitch-ingest'), `the trace crosses ${[...services].sort().join(', ')}`)
  const consumer = trace.find((s) => s.service === 'twitch-ingest' && s.kind === KIND.consumer && s.name.includes('connection.linked'))!
  const producer = trace.find((s) => s.spanId === consumer.parentSpanId)
  t.match(producer, { service: 'auth', kind: KIND.producer }, 'twitch-ingest\'s consumption continues auth\'s publish')
  t.ok(trace.some((s) => s.service === 'auth' && s.kind === KIND.client && String(s.attributes['url.full'] ?? '').includes('/oauth2/token')), 'auth\'s token exchange with the provider is in it')
})
