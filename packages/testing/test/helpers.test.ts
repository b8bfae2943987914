import net from 'node:net'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import t from 'tap'
import { createTestDatabase, drained, eventually, freePort, parsePrometheusText, portIsFree, rowsMentioning, settle, testRedisKeySpace } from '../src/index.js'

// The small helpers other packages' tests lean on, each on its own.

t.test('freePort answers a port nothing listens on, which a server can then take', async (t) => {
  const port = await freePort()
  t.ok(port > 0 && port < 65536)
  const refused = await new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1').once('connect', () => { socket.destroy(); resolve(false) }).once('error', () => { resolve(true) })
  })
  t.ok(refused, 'nobody listens there')
  t.ok(port >= 20_000 && port < 32_000, 'below the ephemeral range, where outgoing connections take their ports')
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  t.equal(await portIsFree(port), false, 'taken once a server listens')
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  t.equal(await portIsFree(port), true)
  const more = await Promise.all(Array.from({ length: 20 }, async () => await freePort()))
  t.equal(new Set([port, ...more]).size, 21, 'never the same port twice')
})

t.test('eventually answers whether its condition held in time; settle waits', async (t) => {
  let calls = 0
  t.equal(await eventually(() => ++calls >= 3, 2000, 5), true)
  t.equal(calls, 3)
  t.equal(await eventually(() => false, 50, 10), false, 'false when it never holds')
  const started = Date.now()
  await settle(30)
  t.ok(Date.now() - started >= 25)
})

t.test('drained needs an empty backlog and a settled bus twice in a row', async (t) => {
  const answers = [true, false, true, true]
  let unsent = 1
  const bus = { settled: async () => answers.shift() ?? true }
  t.equal(await drained(bus, async () => unsent, 300), false, 'never while something is unsent')
  unsent = 0
  t.equal(await drained(bus, async () => unsent, 2000), true)
  t.same(answers, [], 'a settled answer broken by an unsettled one started the count again')
})

t.test('a Redis key space of its own: keys live under the prefix and are gone after the test', async (t) => {
  let prefix = ''
  await t.test('inside', async (t) => {
    const space = await testRedisKeySpace(t, 'helpers')
    prefix = space.prefix
    await space.redis.set('a', '1')
    t.equal(await space.redis.get('a'), '1')
  })
  const { redis } = await testRedisKeySpace(t, 'helpers-check')
  const plain = redis.duplicate({ keyPrefix: '' })
  t.teardown(() => { plain.disconnect() })
  t.same(await plain.keys(`${prefix}*`), [], 'deleted when its test ended')
})

t.test('rowsMentioning finds a text in any column of any table of a schema, per table', async (t) => {
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: await createTestDatabase(t), max: 1 }) }) }) // eslint-disable-line @typescript-eslint/no-explicit-any
  t.teardown(async () => { await db.destroy() })
  await sql`create schema s; create table s.a (id int, owner text); create table s.b (payload jsonb); create table s.c (n int)`.execute(db)
  await sql`insert into s.a values (1, 'user-1'), (2, 'user-2'); insert into s.b values ('{"userId":"user-1"}'), ('{}'); insert into s.c values (1)`.execute(db)
  t.same(await rowsMentioning(db, 's', 'user-1'), { a: 1, b: 1 })
  t.same(await rowsMentioning(db, 's', 'user-3'), {})
})

t.test('the Prometheus text reader files samples under their family and refuses what is malformed', async (t) => {
  const families = parsePrometheusText([
    '# HELP http_seconds Time.',
    '# TYPE http_seconds histogram',
    'http_seconds_bucket{le="0.1",route="/a"} 2',
    'http_seconds_bucket{le="+Inf",route="/a"} 3',
    'http_seconds_sum{route="/a"} 0.5',
    'http_seconds_count{route="/a"} 3',
    '# a comment',
    '',
    'up 1',
    'weird{v="a \\"quoted\\" \\\\ value\\nnext"} NaN',
    'lag -Inf'
  ].join('\n'))
  const http = families.get('http_seconds')!
  t.match(http, { type: 'histogram', help: 'Time.' })
  t.equal(http.samples.length, 4)
  t.same(http.samples[1], { name: 'http_seconds_bucket', labels: { le: '+Inf', route: '/a' }, value: 3 })
  t.match(families.get('up'), { type: 'untyped', samples: [{ value: 1, labels: {} }] })
  t.equal(families.get('weird')!.samples[0]!.labels.v, 'a "quoted" \\ value\nnext')
  t.ok(Number.isNaN(families.get('weird')!.samples[0]!.value))
  t.equal(families.get('lag')!.samples[0]!.value, -Infinity)
  t.throws(() => parsePrometheusText('# TYPE x nonsense'), /unknown type/)
  t.throws(() => parsePrometheusText('x{a="1",a="2"} 1'), /label a twice/)
  t.throws(() => parsePrometheusText('x{a=1} 1'), /malformed labels/)
  t.throws(() => parsePrometheusText('x abc'), /malformed value/)
  t.throws(() => parsePrometheusText('not a sample at all!'), /malformed sample/)
})
