import { randomUUID } from 'node:crypto'
import t from 'tap'
import { TcpProxy, createTestDatabase } from '@pulse/testing'
import { build, countSubmissions, eventually, nextAddress, quiet, validMessage, visitorHeader, watchEvents } from './helper.js'

t.test('with Postgres down nothing is acknowledged; the retry stores the message once', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const proxy = await TcpProxy.start(databaseUrl)
  t.teardown(() => proxy.stop())
  const { app, db, config } = await build(t, { databaseUrl, env: { DATABASE_URL: proxy.url(databaseUrl) } })
  const { bus, received } = await watchEvents(t, config.NATS_PREFIX)
  const headers = { ...visitorHeader(nextAddress()), 'idempotency-key': randomUUID() }
  const send = () => app.inject({ method: 'POST', url: '/contact', headers, payload: validMessage({ message: 'sent while the database was away' }) })

  await proxy.cut()
  for (let attempt = 1; attempt <= 2; attempt++) {
    const res = await send()
    t.equal(res.statusCode, 503, `attempt ${attempt} is refused`)
    t.same(res.json(), { statusCode: 503, error: 'Service Unavailable', message: 'A dependency is unavailable; retry shortly', code: 'CONTACT_UNAVAILABLE' })
    t.ok(Number(res.headers['retry-after']) > 0, 'with retry-after')
  }
  const withoutKey = await app.inject({ method: 'POST', url: '/contact', headers: visitorHeader(nextAddress()), payload: validMessage() })
  t.equal(withoutKey.statusCode, 503, 'without an Idempotency-Key too')
  t.equal(await countSubmissions(db), 0, 'nothing was stored')
  t.same(await db.selectFrom('outbox').selectAll().execute(), [], 'and nothing will be announced')

  await proxy.restore()
  const stored = await send()
  t.equal(stored.statusCode, 202, 'the retry is stored once Postgres is back')
  const again = await send()
  t.equal(again.statusCode, 202)
  t.same(again.json(), stored.json(), 'a further retry answers the same receipt')
  const rows = await db.selectFrom('submissions').select(['id', 'message']).execute()
  t.same(rows, [{ id: stored.json().id, message: 'sent while the database was away' }], 'exactly one message')

  t.ok(await eventually(() => received.length >= 1), 'its event is published')
  t.ok(await quiet(bus, db), 'nothing left to publish')
  t.same(received.map((e) => e.id), [stored.json().id], 'once')
})
