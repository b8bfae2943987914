import t from 'tap'
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
