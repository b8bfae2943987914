import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { randomUUID } from 'node:crypto'
import { CONTACT_STREAM, ContactSubmittedV1 } from '@pulse/contracts'
import {
  createServerOptions, databasePlugin, enqueueEvent, migrateToLatest, natsPlugin, outboxPlugin, servicePlugin, startTracing
} from '@pulse/service-kit'
import { createTestDatabase, eventually, testInfra, uniqueName } from '@pulse/testing'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { SpanKind } from '@opentelemetry/api'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { startStack } from './helper.js'

// Before any app is built: the kit adds its tracing hooks only when the SDK is loaded.
const exporter = new InMemorySpanExporter()
const tracing = await startTracing({ service: 'pulse-test', exporter })
t.teardown(async () => { await tracing?.shutdown() })

/**
 * A service behind the gateway (at the contact prefix) that writes an event to its outbox, and a
 * second service that consumes it: the path of every event in Pulse (gateway → service → outbox →
 * relay → NATS → consumer), in one process with the spans in memory.
 */
async function startServices (t: Test, natsPrefix: string) {
  const infra = await testInfra()
  const databaseUrl = await createTestDatabase(t)
  await migrateToLatest({ url: databaseUrl, schema: 'traced', folder: mkdtempSync(path.join(tmpdir(), 'no-migrations-')) })
  const options = { LOG_LEVEL: 'info', REQUEST_TIMEOUT_MS: 10_000, BODY_LIMIT_BYTES: 10_000 }
  const producer = Fastify(createServerOptions(options, { logger: false }))
  await producer.register(servicePlugin, { prefix: 'CONTACT', audience: 'contact', identitySecrets: ['gateway-test-identity-secret-0123456789'] })
  await producer.register(databasePlugin, { url: databaseUrl, schema: 'traced' })
  await producer.register(natsPlugin, { url: infra.natsUrl, name: 'traced-producer', prefix: natsPrefix, streams: [CONTACT_STREAM] })
  await producer.register(outboxPlugin, { service: 'contact', pollIntervalMs: 100 })
  producer.post('/contact', { config: { public: true } }, async (_request, reply) => {
    await producer.db.transaction().execute(async (trx) => {
      await enqueueEvent(trx, ContactSubmittedV1, { id: randomUUID(), receivedAt: new Date().toISOString(), spam: false })
    })
    producer.outbox.wake()
    return reply.code(202).send({ accepted: true })
  })
  await producer.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => producer.close())

  const lines: Record<string, unknown>[] = []
  const stream = new Writable({ write (chunk, _enc, cb) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); cb() } })
  const consumer = Fastify(createServerOptions(options, { logger: { level: 'info', stream } }))
  await consumer.register(servicePlugin, { prefix: 'INBOX', audience: 'inbox', identitySecrets: ['gateway-test-identity-secret-0123456789'] })
  await consumer.register(natsPlugin, { url: infra.natsUrl, name: 'traced-consumer', prefix: natsPrefix, streams: [CONTACT_STREAM] })
  await consumer.ready()
  t.teardown(() => consumer.close())
  const received: string[] = []
  await consumer.nats.consume([ContactSubmittedV1], { durable: uniqueName('inbox'), stream: CONTACT_STREAM }, async (payload) => {
    const { id } = payload as { id: string }
    consumer.log.info({ messageId: id }, 'contact message received')
    received.push(id)
  })
  return { url: `http://127.0.0.1:${(producer.server.address() as { port: number }).port}`, lines, received }
}

const scopeOf = (span: ReadableSpan) => span.instrumentationScope.name
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId

t.test('one request that causes an event is one trace: gateway, service, outbox relay, NATS, consumer; its request id reaches the consumer\'s log', async (t) => {
  const natsPrefix = uniqueName('traced')
  const services = await startServices(t, natsPrefix)
  const stack = await startStack(t, { gatewayEnv: { CONTACT_URL: services.url } })
  exporter.reset()

  const res = await fetch(`${stack.gatewayUrl}/contact`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'trace-req-1' },
    body: JSON.stringify({ message: 'hello' })
  })
  t.equal(res.status, 202)
  t.ok(await eventually(() => services.received.length === 1, 10_000), 'the event was consumed')
  t.ok(await eventually(() => exporter.getFinishedSpans().some((s) => s.kind === SpanKind.CONSUMER), 5000), 'the consumer span ended')

  const spans = exporter.getFinishedSpans()
  const gateway = spans.find((s) => scopeOf(s) === 'pulse.gateway' && s.kind === SpanKind.SERVER)
  t.ok(gateway, 'the gateway\'s server span')
  t.equal(gateway?.name, 'POST /contact')
  const traceId = gateway!.spanContext().traceId
  const ofTrace = spans.filter((s) => s.spanContext().traceId === traceId)
  // This test's own fetch is traced too (undici): the gateway continues the caller's trace.
  const caller = ofTrace.find((s) => s.spanContext().spanId === parentOf(gateway!))
  t.equal(caller?.kind, SpanKind.CLIENT, 'the gateway\'s span is a child of the caller\'s request')
  t.equal(parentOf(caller!), undefined, 'which began the trace')

  const upstream = ofTrace.find((s) => s.kind === SpanKind.CLIENT && scopeOf(s).includes('undici'))
  t.equal(parentOf(upstream!), gateway!.spanContext().spanId, 'the call to the service is a child of the gateway\'s span')
  const service = ofTrace.find((s) => scopeOf(s) === 'pulse.contact' && s.kind === SpanKind.SERVER)
  t.equal(parentOf(service!), upstream!.spanContext().spanId, 'the service continues the gateway\'s call')
  t.equal(service?.attributes['pulse.request_id'], 'trace-req-1')
  const insert = ofTrace.find((s) => s.kind === SpanKind.CLIENT && s.name === 'pg insert')
  t.equal(parentOf(insert!), service!.spanContext().spanId, 'the outbox insert is a child of the service\'s span')
  const publish = ofTrace.find((s) => s.kind === SpanKind.PRODUCER)
  t.equal(publish?.name, 'contact.submitted.v1 publish')
  t.equal(parentOf(publish!), service!.spanContext().spanId, 'the relay\'s publish continues the request that wrote the event')
  const consume = ofTrace.find((s) => s.kind === SpanKind.CONSUMER)
  t.equal(consume?.name, 'contact.submitted.v1 process')
  t.equal(parentOf(consume!), publish!.spanContext().spanId, 'the consumer continues the publish')
  t.equal(scopeOf(consume!), 'pulse.traced-consumer')

  const line = services.lines.find((l) => l.msg === 'contact message received')
  t.equal(line?.requestId, 'trace-req-1', 'the consumer\'s log line names the request that caused the event')
  t.equal(line?.trace_id, traceId, 'and its trace')
  t.equal(line?.span_id, consume!.spanContext().spanId)
})
