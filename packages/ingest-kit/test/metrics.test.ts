import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { TwitchRefreshRequestedV1 } from '@pulse/contracts'
import { metricsOf } from '@pulse/service-kit'
import { eventually, parsePrometheusText, type PrometheusFamily } from '@pulse/testing'
import { Registry } from 'prom-client'
import t from 'tap'
import { ProviderHttp, RateLimitTracker, createIngestMetrics, ProviderUnavailableError } from '../src/index.js'
import { failedOf, refreshedOf } from '../src/testing/index.js'
import { buildFakeApp, connect, startFakeWorld, unlink } from './fake-service.js'

const total = (family: PrometheusFamily | undefined, labels: Record<string, string> = {}) =>
  family?.samples.filter((s) => (family.type !== 'histogram' || s.name.endsWith('_count')) && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0) ?? 0

t.test('provider calls are counted by endpoint and status, and the budget left is reported', async (t) => {
  const statuses = [200, 200, 503, 503]
  const server = createServer((_req, res) => {
    const status = statuses.shift() ?? 200
    res.writeHead(status, { 'content-type': 'application/json', 'ratelimit-remaining': String(statuses.length + 40), 'ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 60) })
    res.end('{}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close(); server.closeAllConnections() })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/helix/users?id=12345`
  const registry = new Registry()
  const http = new ProviderHttp({
    now: Date.now, tracker: new RateLimitTracker(Date.now), rateLimitHeaders: { remaining: 'ratelimit-remaining', reset: 'ratelimit-reset' },
    timeoutMs: 2000, maxAttempts: 2, retryBaseMs: 5, maxInlineWaitMs: 0, maxRateLimitWaitMs: 60_000, metrics: createIngestMetrics(registry, 'twitch')
  })
  const call = { url, endpoint: 'GET /helix/users', bucket: 'user:12345', headers: () => ({}) }
  await http.getJson(call)
  await http.getJson(call)
  await t.rejects(http.getJson(call), ProviderUnavailableError, 'two 503s: unavailable')
  await http.getJson({ ...call, url: 'http://127.0.0.1:1/closed', endpoint: 'GET /helix/videos' }).catch(() => {})

  const text = await registry.metrics()
  const families = parsePrometheusText(text)
  const requests = families.get('provider_requests_total')
  t.equal(total(requests, { provider: 'twitch', endpoint: 'GET /helix/users', status: '200' }), 2)
  t.equal(total(requests, { endpoint: 'GET /helix/users', status: '503' }), 2)
  t.equal(total(requests, { endpoint: 'GET /helix/videos', status: 'network' }), 2, 'no answer: counted as network, each attempt')
  t.equal(total(families.get('provider_request_duration_seconds'), { endpoint: 'GET /helix/users' }), 4)
  t.equal(total(families.get('provider_rate_limit_remaining'), { endpoint: 'GET /helix/users' }), 40, 'the last answer\'s budget')
  t.notMatch(text, /12345/, 'no ids in any label')
})

t.test('refreshes are timed by outcome, and failures counted by reason', async (t) => {
  const world = await startFakeWorld(t)
  const app = await buildFakeApp(t, world, { METRICS_PORT: '0' })
  const registry = metricsOf(app)!.registry
  const families = async () => parsePrometheusText(await registry.metrics())

  const userId = await connect(world, 'm-user')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1, 20_000))
  t.ok(await eventually(async () => total((await families()).get('ingest_refresh_duration_seconds'), { provider: 'twitch', outcome: 'stored' }) === 1, 5000), 'the first refresh, stored')

  await unlink(world, userId, 'm-user')
  await world.bus.publish(TwitchRefreshRequestedV1, { userId, reason: 'scheduled', requestedAt: new Date(world.clock.now()).toISOString() })
  t.ok(await eventually(() => failedOf(world, userId).length === 1, 20_000))
  t.ok(await eventually(async () => total((await families()).get('ingest_refresh_failures_total'), { provider: 'twitch', reason: 'not_connected' }) === 1, 5000), 'one failure, not connected')
  t.equal(total((await families()).get('ingest_refresh_duration_seconds'), { outcome: 'failed' }), 1)
})
