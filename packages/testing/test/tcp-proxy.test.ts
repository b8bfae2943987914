import t from 'tap'
import { Redis } from 'ioredis'
import pg from 'pg'
import { TcpProxy, createTestDatabase, testInfra } from '@pulse/testing'

t.test('a database per test file, reachable through a proxy that can be cut and restored', async (t) => {
  const url = await createTestDatabase(t)
  t.match(url, /\/pulse_test_/)
  const proxy = await TcpProxy.start(url)
  t.teardown(() => proxy.stop())
  const query = async () => {
    const client = new pg.Client({ connectionString: proxy.url(url), connectionTimeoutMillis: 1000 })
    client.on('error', () => {})
    await client.connect()
    try { return (await client.query('select current_database() as db')).rows[0].db as string } finally { await client.end() }
  }
  t.equal(await query(), new URL(url).pathname.slice(1))
  await proxy.cut()
  await t.rejects(query(), 'refused while cut')
  await proxy.restore()
  t.equal(await query(), new URL(url).pathname.slice(1), 'answers again after restore')
})

t.test('the servers come from the environment or the local defaults', async (t) => {
  const infra = await testInfra()
  for (const [key, value] of Object.entries(infra)) t.ok(URL.canParse(value), `${key} is a URL`)
  if (process.env.PULSE_TEST_REDIS_URL !== undefined) t.equal(infra.redisUrl, process.env.PULSE_TEST_REDIS_URL)
})

t.test('a stalled proxy keeps its connections open and forwards nothing until it resumes', async (t) => {
  const { redisUrl } = await testInfra()
  const proxy = await TcpProxy.start(redisUrl)
  t.teardown(() => proxy.stop())
  const redis = new Redis(proxy.url(redisUrl), { commandTimeout: 300, maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true })
  redis.on('error', () => {})
  t.teardown(() => { redis.disconnect() })
  let connects = 0
  let closes = 0
  redis.on('connect', () => { connects++ }).on('close', () => { closes++ })
  await redis.connect()
  t.equal(await redis.ping(), 'PONG')

  proxy.stall()
  await t.rejects(redis.ping(), /Command timed out/, 'no answer while stalled')
  t.equal(closes, 0, 'the connection stays open')
  t.equal(redis.status, 'ready')
  // A new connection is accepted but gets no answer either.
  const late = new Redis(proxy.url(redisUrl), { connectTimeout: 300, commandTimeout: 300, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true })
  late.on('error', () => {})
  t.teardown(() => { late.disconnect() })
  await t.rejects(late.connect().then(async () => await late.ping()), 'a new client gets no answer')

  proxy.resume()
  t.equal(await redis.ping(), 'PONG', 'answers again')
  t.equal(connects, 1, 'on the same connection')
  t.equal(closes, 0)
})
