import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import Type from 'typebox'
import { sql } from 'kysely'
import {
  BaseConfigProperties, DatabaseConfigProperties, RedisConfigProperties, createServerOptions, databaseOptionsOf, databasePlugin,
  enqueueEvent, loadConfig, migrateToLatest, outboxPlugin, natsPlugin, redisPlugin, servicePlugin, startMetricsServer, UNMATCHED_ROUTE
} from '../src/index.js'
import { createTestDatabase, eventually, parsePrometheusText, testInfra, uniqueName, type PrometheusFamily, type Teardown } from '@pulse/testing'
import { ItemCreatedV1, KIT_STREAM, MIGRATIONS } from './fixtures/events.js'

const SECRET = 'a-test-identity-secret-of-at-least-32-chars'
const SCHEMA = 'metrics_example'


async function build (t: Teardown, { metrics = true, events = true }: { metrics?: boolean, events?: boolean } = {}) {
  const infra = await testInfra()
  const databaseUrl = await createTestDatabase(t)
  const config = loadConfig({ ...BaseConfigProperties, ...DatabaseConfigProperties, ...RedisConfigProperties }, {
    IDENTITY_SECRET: SECRET, LOG_LEVEL: 'silent', DATABASE_URL: databaseUrl, REDIS_URL: infra.redisUrl, REDIS_PREFIX: `${uniqueName('metrics')}:`
  })
  await migrateToLatest({ url: databaseUrl, schema: SCHEMA, folder: MIGRATIONS })

  const app = Fastify(createServerOptions(config))
  await app.register(servicePlugin, { prefix: 'EXAMPLE', audience: 'example', identitySecrets: [SECRET], metrics })
  await app.register(databasePlugin, databaseOptionsOf(config, SCHEMA))
  await app.register(redisPlugin, { url: config.REDIS_URL, keyPrefix: config.REDIS_PREFIX, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS })
  if (events) {
    await app.register(natsPlugin, { url: infra.natsUrl, name: 'kit-metrics-test', prefix: uniqueName('kitmetrics'), streams: [KIT_STREAM] })
    // A long poll interval: the events enqueued below stay unsent while the test reads the backlog.
    await app.register(outboxPlugin, { service: 'example', pollIntervalMs: 60_000 })
  }
  app.get('/items/:id', { config: { public: true }, schema: { params: Type.Object({ id: Type.Integer() }) } }, async (request) => {
    await sql`select 1`.execute(app.db)
    return { id: (request.params as { id: number }).id }
  })
  app.post('/counter', { config: { public: true } }, async () => ({ count: await app.redis.incr('counter') }))
  app.get('/boom', { config: { public: true } }, async () => { throw new Error('boom') })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

async function scrape (app: Awaited<ReturnType<typeof build>>, t: Test): Promise<{ text: string, families: Map<string, PrometheusFamily> }> {
  const server = await startMetricsServer(app.metrics!.registry, { port: 0, host: '127.0.0.1' })
  t.teardown(() => { server.close() })
  const res = await fetch(`http://127.0.0.1:${server.port}/metrics`)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const text = await res.text()
  const families = parsePrometheusText(text)
  return { text, families }
}

/** The sum of a histogram's _count samples (or a counter's or gauge's values) whose labels include `labels`. */
const total = (family: PrometheusFamily | undefined, labels: Record<string, string> = {}) =>
  family?.samples.filter((s) => (family.type !== 'histogram' || s.name.endsWith('_count')) && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0) ?? 0

t.test('/metrics is Prometheus text with the families of the kit and counts requests by route pattern', async (t) => {
  const app = await build(t)
  for (let id = 1; id <= 7; id++) t.equal((await app.inject({ url: `/items/${id}` })).statusCode, 200)
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ method: 'POST', url: '/counter' })).statusCode, 200)
  t.equal((await app.inject({ url: '/boom' })).statusCode, 500)
  await app.db.transaction().execute(async (trx) => {
    await enqueueEvent(trx, ItemCreatedV1, { id: 1, name: 'one' })
    await enqueueEvent(trx, ItemCreatedV1, { id: 2, name: 'two' })
  })

  const { text, families } = await scrape(app, t)
  const http = families.get('http_server_request_duration_seconds')
  t.equal(http?.type, 'histogram')
  t.equal(total(http, { route: '/items/:id', method: 'GET', status_class: '2xx', service: 'example' }), 7, 'seven requests, one series for the route pattern')
  t.equal(total(http, { route: '/counter', method: 'POST', status_class: '2xx' }), 3)
  t.equal(total(http, { route: '/boom', status_class: '5xx' }), 1)
  t.notMatch(text, /\/items\/[0-9]/, 'no raw path anywhere')

  for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds', 'process_cpu_seconds_total',
    'pg_pool_connections', 'pg_pool_waiting_requests', 'pg_pool_acquire_duration_seconds', 'redis_command_duration_seconds',
    'outbox_unsent_events', 'outbox_oldest_unsent_age_seconds']) {
    t.ok(families.has(name), `${name} is exported`)
  }
  t.ok(total(families.get('pg_pool_acquire_duration_seconds')) >= 7, 'each query waited for a connection, and was timed')
  t.equal(total(families.get('redis_command_duration_seconds'), { command: 'incr', outcome: 'ok' }), 3)
  t.equal(total(families.get('outbox_unsent_events')), 2)
  t.ok(total(families.get('outbox_oldest_unsent_age_seconds')) > 0, 'the oldest unsent event has an age')
  t.equal(total(families.get('pg_pool_waiting_requests')), 0)
  t.equal(total(families.get('pg_pool_connections'), { state: 'in_use' }), 0, 'every connection was given back')
})

t.test('label sets stay bounded whatever paths are requested', async (t) => {
  const app = await build(t)
  // No '%': a malformed escape is refused by Fastify before routing and any hook (README, "Operating Pulse").
  const alphabet = 'abcXYZ019-_.~:@!$/'
  for (let i = 0; i < 300; i++) {
    const bytes = randomBytes(1 + (i % 40))
    const path = '/' + [...bytes].map((b) => alphabet[b % alphabet.length]).join('')
    const method = (['GET', 'POST', 'DELETE', 'PATCH'] as const)[i % 4]
    await app.inject({ method, url: i % 3 === 0 ? `/items/${path.slice(1)}` : path })
  }
  const { families } = await scrape(app, t)
  const series = families.get('http_server_request_duration_seconds')!.samples.filter((s) => s.name.endsWith('_count'))
  const routes = new Set(series.map((s) => s.labels.route))
  t.ok([...routes].every((route) => route === UNMATCHED_ROUTE || route === '/items/:id'), `routes are patterns: ${[...routes].join(', ')}`)
  const labelSets = new Set(series.map((s) => JSON.stringify(s.labels)))
  // method (4) × route (2) × status class (at most 5)
  t.ok(labelSets.size <= 4 * 2 * 5, `${labelSets.size} label sets for 300 distinct paths`)
  t.equal(total(families.get('http_server_request_duration_seconds')), 300, 'every request is counted, unknown paths under one route value')
})

t.test('with metrics off nothing is collected', async (t) => {
  const app = await build(t, { metrics: false, events: false })
  t.equal(app.metrics, null)
  t.equal((await app.inject({ url: '/items/1' })).statusCode, 200)
})

t.test('NATS: published, consumed and redelivered messages, and each durable consumer\'s lag', async (t) => {
  const app = await build(t)
  const handled: number[] = []
  let failures = 0
  await app.nats.consume([ItemCreatedV1], { durable: 'metrics-items', stream: KIT_STREAM, ackWaitMs: 30_000 }, async (payload) => {
    const { id } = payload as { id: number }
    // The first delivery of item 2 fails once: one redelivery.
    if (id === 2 && failures++ === 0) throw new Error('not yet')
    handled.push(id)
  })
  await app.db.transaction().execute(async (trx) => {
    for (const id of [1, 2, 3]) await enqueueEvent(trx, ItemCreatedV1, { id, name: `item ${id}` })
  })
  app.outbox.wake()
  t.ok(await eventually(() => handled.length === 3, 15_000), 'all three handled')
  const { families } = await scrape(app, t)
  t.equal(total(families.get('nats_messages_published_total'), { subject: 'kit.item.created.v1' }), 3, 'the subject without the test prefix')
  t.equal(total(families.get('nats_messages_consumed_total'), { consumer: 'metrics-items', outcome: 'ok' }), 3)
  t.equal(total(families.get('nats_messages_consumed_total'), { consumer: 'metrics-items', outcome: 'failed' }), 1)
  t.equal(total(families.get('nats_messages_redelivered_total'), { consumer: 'metrics-items' }), 1)
  t.equal(total(families.get('nats_consumer_pending_messages'), { consumer: 'metrics-items' }), 0, 'nothing left to deliver')
  t.ok(families.get('nats_consumer_ack_pending_messages')?.samples.some((s) => s.labels.consumer === 'metrics-items'), 'ack pending is read from the server')
  t.equal(total(families.get('outbox_unsent_events')), 0, 'the outbox is drained')
})
