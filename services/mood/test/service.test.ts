import t from 'tap'
import { sql } from 'kysely'
import { ConfigError, createDatabase } from '@pulse/service-kit'
import { createTestDatabase, eventually, TcpProxy } from '@pulse/testing'
import { loadMoodConfig } from '../src/config.js'
import { MOOD_SCHEMA, type Database } from '../src/db/database.js'
import { build, countEntries, identity, newUserId, storedStreaks } from './helper.js'

t.test('/openapi.json describes every mood route with its schemas and error answers', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ url: '/openapi.json' })
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.equal(doc.info.title, 'Pulse mood')
  t.same(Object.keys(doc.paths).sort(), ['/mood', '/mood/stats', '/mood/{id}'], 'only the public mood routes (health and ready are hidden)')
  t.same(Object.keys(doc.paths['/mood']).sort(), ['get', 'post'])
  t.same(Object.keys(doc.paths['/mood/{id}']).sort(), ['delete', 'patch'])
  const post = doc.paths['/mood'].post
  t.same(Object.keys(post.responses).sort(), ['201', '400', '401', '409', '500', '503'])
  t.same(post.requestBody.content['application/json'].schema.required, ['score'])
  t.match(post.parameters, [{ in: 'header', name: 'idempotency-key' }])
  t.same(Object.keys(post.responses['201'].content['application/json'].schema.properties.entry.properties).sort(),
    ['day', 'id', 'label', 'loggedAt', 'note', 'score', 'streak'])
  t.same(Object.keys(doc.paths['/mood/{id}'].delete.responses).sort(), ['204', '400', '401', '404', '500', '503'])
  t.same(doc.paths['/mood'].get.parameters.map((p: { name: string }) => p.name).sort(), ['cursor', 'from', 'limit', 'to'])
  t.match(doc.paths['/mood/stats'].get.parameters, [{ name: 'days', in: 'query' }])
})

t.test('/health and /ready answer without an identity', async (t) => {
  const { app } = await build(t)
  t.equal((await app.inject({ url: '/health' })).statusCode, 200)
  const ready = await app.inject({ url: '/ready' })
  t.equal(ready.statusCode, 200)
  // Mood also joins NATS now (account deletions, exports): its checks and the dead-letter details come too.
  t.match(ready.json(), { status: 'ready', checks: { postgres: 'ok' } })
})

t.test('while Postgres is unreachable requests answer 503, and nothing is half-stored', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const proxy = await TcpProxy.start(databaseUrl)
  t.teardown(() => proxy.stop())
  const { app, db } = await build(t, { databaseUrl, env: { DATABASE_URL: proxy.url(databaseUrl), DATABASE_CONNECT_TIMEOUT_MS: '300' } })
  const user = newUserId()
  t.equal((await app.inject({ method: 'POST', url: '/mood', headers: identity(user), payload: { score: 3 } })).statusCode, 201)

  await proxy.cut()
  const down = await app.inject({ method: 'POST', url: '/mood', headers: { ...identity(user), 'idempotency-key': 'k1' }, payload: { score: 4 } })
  t.equal(down.statusCode, 503)
  t.same(down.json(), { statusCode: 503, error: 'Service Unavailable', message: 'A dependency is unavailable; retry shortly', code: 'MOOD_UNAVAILABLE' })
  t.equal((await app.inject({ url: '/mood', headers: identity(user) })).statusCode, 503)
  t.equal((await app.inject({ url: '/ready' })).statusCode, 503)

  await proxy.restore()
  const retried = await app.inject({ method: 'POST', url: '/mood', headers: { ...identity(user), 'idempotency-key': 'k1' }, payload: { score: 4 } })
  t.equal(retried.statusCode, 201, 'the retry with the same key logs it once')
  t.notOk(retried.headers['idempotent-replayed'])
  t.equal(await countEntries(db, user), 2)
})

t.test('a write whose connection dies mid-transaction (a Postgres failover) answers 503, leaves nothing half-stored, and the next request succeeds', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  // The lock wait below must outlast the test's own steps; the failover is what ends it.
  const { app, db } = await build(t, { databaseUrl, env: { DATABASE_LOCK_TIMEOUT_MS: '20000', DATABASE_STATEMENT_TIMEOUT_MS: '30000' } })
  const user = newUserId()
  t.equal((await app.inject({ method: 'POST', url: '/mood', headers: identity(user), payload: { score: 3, loggedAt: '2024-03-30T10:00:00Z' } })).statusCode, 201)
  const before = await storedStreaks(db, user)

  // Hold the streak table: the write claims its idempotency key and inserts the entry, then waits in
  // the trigger that keeps the streak runs, in the middle of its transaction.
  const holder = createDatabase<Database>({ url: databaseUrl, schema: MOOD_SCHEMA, poolMax: 1 })
  t.teardown(() => holder.destroy())
  const headers = { ...identity(user), 'idempotency-key': 'mid-write' }
  const payload = { score: 5, loggedAt: '2024-03-31T10:00:00Z' }
  const interrupted = await holder.connection().execute(async (conn) => {
    await sql`begin`.execute(conn)
    await sql`lock table streak_runs in share mode`.execute(conn)
    const writing = app.inject({ method: 'POST', url: '/mood', headers, payload })
    const waiting = async () => (await sql<{ pid: number }>`select pid from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`.execute(conn)).rows
    t.ok(await eventually(async () => (await waiting()).length === 1, 10_000), 'the write is in the middle of its transaction')
    // What a failover does to the connection: the server ends it under the statement.
    for (const { pid } of await waiting()) await sql`select pg_terminate_backend(${pid})`.execute(conn)
    await sql`rollback`.execute(conn)
    return await writing
  })
  t.equal(interrupted.statusCode, 503, 'the interrupted write is not reported as done')
  t.same(interrupted.json(), { statusCode: 503, error: 'Service Unavailable', message: 'A dependency is unavailable; retry shortly', code: 'MOOD_UNAVAILABLE' })
  t.ok(Number(interrupted.headers['retry-after']) > 0, 'with retry-after')
  t.equal(await countEntries(db, user), 1, 'the entry is absent: the transaction was rolled back whole')
  t.same(await storedStreaks(db, user), before, 'and so are its streak runs')
  t.same(await db.selectFrom('idempotency_keys').select('key').where('key', '=', 'mid-write').execute(), [], 'and its idempotency key, so a retry is not mistaken for a replay')

  const retried = await app.inject({ method: 'POST', url: '/mood', headers, payload })
  t.equal(retried.statusCode, 201, 'the retry succeeds on a new connection, without a restart')
  t.notOk(retried.headers['idempotent-replayed'])
  t.match(retried.json(), { entry: { streak: 2 }, streak: { longest: 2 } }, 'with its streak runs')
  t.equal(await countEntries(db, user), 2, 'stored once')
  t.equal((await app.inject({ url: '/ready' })).statusCode, 200)
})

t.test('settings: defaults, and a bad one is named', async (t) => {
  const config = loadMoodConfig({})
  t.match(config, { PORT: 3002, MOOD_PAGE_SIZE_DEFAULT: 20, MOOD_PAGE_SIZE_MAX: 100, MOOD_STATS_MAX_DAYS: 366, MOOD_FUTURE_SKEW_SECONDS: 300 })
  t.throws(() => loadMoodConfig({ MOOD_PAGE_SIZE_MAX: 'lots' }), ConfigError)
  t.throws(() => loadMoodConfig({ MOOD_PAGE_SIZE_DEFAULT: '50', MOOD_PAGE_SIZE_MAX: '10' }), /MOOD_PAGE_SIZE_DEFAULT \(50\) must not exceed MOOD_PAGE_SIZE_MAX \(10\)/)
  t.throws(() => loadMoodConfig({ NODE_ENV: 'production' }), /IDENTITY_SECRET still has its development value/)
})
