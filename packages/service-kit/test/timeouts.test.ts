import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify'
import { sql } from 'kysely'
import pg from 'pg'
import t from 'tap'
import Type from 'typebox'
import { createTestDatabase, TcpProxy, testInfra, uniqueName, type Teardown } from '@pulse/testing'
import {
  BaseConfigProperties, DatabaseConfigProperties, RedisConfigProperties, createServerOptions, databaseOptionsOf, databasePlugin,
  loadConfig, migrateToLatest, redisConnectionOf, redisPlugin, servicePlugin
} from '../src/index.js'
import { MIGRATIONS } from './fixtures/events.js'

// A dependency that stops answering must fail a request within its timeout, never hold it. The
// bounds below are the settings plus a margin for a loaded machine; without the timeouts every
// request here would wait for as long as the dependency does (the test's own guard, far beyond).
const SECRET = 'a-test-identity-secret-of-at-least-32-chars'
const SCHEMA = 'kit'
const SETTINGS = {
  DATABASE_STATEMENT_TIMEOUT_MS: 800,
  DATABASE_LOCK_TIMEOUT_MS: 400,
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: 1000,
  REDIS_COMMAND_TIMEOUT_MS: 300
}
const MARGIN_MS = 3000
/** Far beyond every bound: a request still running then is hanging. */
const HANG_MS = 20_000

const Properties = { ...BaseConfigProperties, ...DatabaseConfigProperties, ...RedisConfigProperties }

async function build (t: Teardown, env: Record<string, string>) {
  const config = loadConfig(Properties, {
    IDENTITY_SECRET: SECRET,
    LOG_LEVEL: 'silent',
    ...Object.fromEntries(Object.entries(SETTINGS).map(([k, v]) => [k, String(v)])),
    ...env
  })
  const app = Fastify(createServerOptions(config))
  await app.register(servicePlugin, { prefix: 'EXAMPLE', audience: 'example', identitySecrets: [config.IDENTITY_SECRET] })
  await app.register(databasePlugin, databaseOptionsOf(config, SCHEMA))
  if (env.REDIS_URL !== undefined) {
    await app.register(redisPlugin, { ...redisConnectionOf(config), keyPrefix: config.REDIS_PREFIX, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS })
    app.post('/counter', { config: { public: true } }, async () => ({ count: await app.redis.incr('counter') }))
  }
  app.put('/items/:id', { config: { public: true }, schema: { params: Type.Object({ id: Type.Integer() }) } }, async (request) => {
    const { id } = request.params as { id: number }
    await sql`update items set name = 'renamed' where id = ${id}`.execute(app.db)
    return { id }
  })
  app.get('/slow', { config: { public: true } }, async () => {
    await sql`select pg_sleep(30)`.execute(app.db)
    return { slept: true }
  })
  t.teardown(() => app.close())
  return app
}

/** The request's answer and how long it took; fails the test instead of hanging. */
async function timed (app: FastifyInstance, options: InjectOptions) {
  const start = Date.now()
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer in ${HANG_MS} ms: the request hangs`)), HANG_MS) })
  try {
    const res = await Promise.race([app.inject(options), hang])
    return { res, ms: Date.now() - start }
  } finally {
    clearTimeout(timer)
  }
}

async function withDatabase (t: Teardown) {
  const databaseUrl = await createTestDatabase(t)
  await migrateToLatest({ url: databaseUrl, schema: SCHEMA, folder: MIGRATIONS })
  const other = new pg.Client({ connectionString: databaseUrl, options: `-c search_path=${SCHEMA}` })
  await other.connect()
  t.teardown(() => other.end())
  await other.query(`insert into items (id, name) values (1, 'one')`)
  return { databaseUrl, other }
}

t.test('a row locked by another connection: 503 within the lock timeout, and the same app answers once it is released', async (t) => {
  const { databaseUrl, other } = await withDatabase(t)
  const app = await build(t, { DATABASE_URL: databaseUrl })
  t.equal((await app.inject({ method: 'PUT', url: '/items/1' })).statusCode, 200, 'answers while nothing holds the row')

  await other.query('begin')
  await other.query('select * from items where id = 1 for update')
  const { res, ms } = await timed(app, { method: 'PUT', url: '/items/1' })
  t.equal(res.statusCode, 503)
  t.match(res.json(), { statusCode: 503, error: 'Service Unavailable', code: 'EXAMPLE_UNAVAILABLE' }, 'in the error shape')
  t.notMatch(res.body, /lock|timeout|canceling/i, 'the driver error stays in the log')
  t.ok(ms < SETTINGS.DATABASE_LOCK_TIMEOUT_MS + MARGIN_MS, `answered in ${ms} ms, within the lock timeout plus a margin`)

  await other.query('rollback')
  t.equal((await app.inject({ method: 'PUT', url: '/items/1' })).statusCode, 200, 'recovers without a restart')
})

t.test('a statement that runs too long: 503 within the statement timeout', async (t) => {
  const { databaseUrl } = await withDatabase(t)
  const app = await build(t, { DATABASE_URL: databaseUrl })
  const { res, ms } = await timed(app, { url: '/slow' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'EXAMPLE_UNAVAILABLE')
  t.ok(ms < SETTINGS.DATABASE_STATEMENT_TIMEOUT_MS + MARGIN_MS, `answered in ${ms} ms, within the statement timeout plus a margin`)
  t.equal((await app.inject({ method: 'PUT', url: '/items/1' })).statusCode, 200, 'the pool still works')
})

t.test('a pooled connection left idle inside a transaction is closed by Postgres, releasing its locks', async (t) => {
  const { databaseUrl, other } = await withDatabase(t)
  const app = await build(t, { DATABASE_URL: databaseUrl })
  const client = await app.pgPool.connect()
  await client.query('begin')
  await client.query('select * from items where id = 1 for update')
  // Forgotten: never committed, never released (a bug, or a process stuck elsewhere).
  await other.query(`set lock_timeout = ${HANG_MS}`)
  const start = Date.now()
  await other.query(`update items set name = 'taken' where id = 1`)
  const ms = Date.now() - start
  t.ok(ms < SETTINGS.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS + MARGIN_MS, `the lock was released after ${ms} ms, within the idle-in-transaction timeout plus a margin`)
  client.release(true)
  t.equal((await app.inject({ method: 'PUT', url: '/items/1' })).statusCode, 200, 'the app keeps working')
})

t.test('a Redis that stops answering without closing its connection: 503 within the command timeout, recovery without a restart', async (t) => {
  const { databaseUrl } = await withDatabase(t)
  const { redisUrl } = await testInfra()
  const proxy = await TcpProxy.start(redisUrl)
  t.teardown(() => proxy.stop())
  const app = await build(t, { DATABASE_URL: databaseUrl, REDIS_URL: proxy.url(redisUrl), REDIS_PREFIX: `${uniqueName('kitredis')}:` })
  t.equal((await app.inject({ method: 'POST', url: '/counter' })).statusCode, 200)

  proxy.stall()
  for (let i = 0; i < 3; i++) {
    const { res, ms } = await timed(app, { method: 'POST', url: '/counter' })
    t.equal(res.statusCode, 503)
    t.match(res.json(), { statusCode: 503, error: 'Service Unavailable', code: 'EXAMPLE_UNAVAILABLE' }, 'in the error shape')
    t.ok(ms < SETTINGS.REDIS_COMMAND_TIMEOUT_MS + MARGIN_MS, `answered in ${ms} ms, within the command timeout plus a margin`)
  }
  const ready = await timed(app, { url: '/ready' })
  t.equal(ready.res.statusCode, 503, '/ready says so')
  t.equal(ready.res.json().checks.redis, 'failing')

  proxy.resume()
  const back = await app.inject({ method: 'POST', url: '/counter' })
  t.equal(back.statusCode, 200, 'answers again on the same connection')
  t.equal((await app.inject({ url: '/ready' })).statusCode, 200)
})
