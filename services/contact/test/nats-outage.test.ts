import t from 'tap'
import { TcpProxy, testInfra } from '@pulse/testing'
import { build, eventually, nextAddress, quiet, settle, validMessage, visitorHeader, watchEvents } from './helper.js'

t.test('with NATS down messages are stored, and announced once when it returns', async (t) => {
  const { natsUrl } = await testInfra()
  const proxy = await TcpProxy.start(natsUrl)
  // Teardowns run last-added first: the app (added by build) closes while the proxy still forwards.
  t.teardown(() => proxy.stop())
  const { app, db, config } = await build(t, { env: { NATS_URL: proxy.url(natsUrl) } })
  const { bus, received } = await watchEvents(t, config.NATS_PREFIX)

  await proxy.cut()
  const res = await app.inject({ method: 'POST', url: '/contact', headers: visitorHeader(nextAddress()), payload: validMessage() })
  t.equal(res.statusCode, 202, 'accepted')
  const { id } = res.json() as { id: string }
  const row = await db.selectFrom('submissions').select('id').where('id', '=', id).executeTakeFirst()
  t.ok(row, 'and stored')
  const ready = await app.inject({ url: '/ready' })
  t.equal(ready.statusCode, 200, 'still ready: the outbox holds the event, so NATS is not needed to take messages')

  await settle(5 * config.OUTBOX_POLL_INTERVAL_MS) // five relay rounds, each failing to reach NATS
  t.same(received, [], 'nothing is published while NATS is away')
  const pending = await db.selectFrom('outbox').select(['id', 'sent_at']).execute()
  t.equal(pending.length, 1)
  t.equal(pending[0]?.sent_at, null, 'the event waits in the outbox')

  await proxy.restore()
  t.ok(await eventually(() => received.some((e) => e.id === id), 20_000), 'the event arrives after NATS returns')
  t.ok(await quiet(bus, db), 'nothing left to publish')
  t.same(received.filter((e) => e.id === id), [{ id, receivedAt: res.json().receivedAt, spam: false }], 'exactly once')
  t.ok(await eventually(async () => {
    const sent = await db.selectFrom('outbox').select('sent_at').execute()
    return sent.every((o) => o.sent_at !== null)
  }), 'the outbox row is marked sent')
})
