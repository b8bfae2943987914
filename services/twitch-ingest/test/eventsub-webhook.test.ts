import { randomUUID } from 'node:crypto'
import { METRICS_STREAM, TWITCH_EVENTSUB_STREAM, TwitchChannelActivityV1, TwitchEventSubMessageV1 } from '@pulse/contracts'
import t from 'tap'
import { buildEventSubApp, deliver, followBody, publishedEvents, signedDelivery, startForwarder } from './eventsub-helper.js'
import { as, connectTwitch, eventually, refreshedOf, drained, startWorld } from './helper.js'

// The callback's checks, on requests signed here (the simulator's own deliveries are in
// eventsub-sim.test.ts): the signature on the raw body, the age, the message id, the headers.
const world = await startWorld(t)
const forwarder = await startForwarder(t)
const { app } = await buildEventSubApp(t, world, {}, forwarder)
const { app: replica } = await buildEventSubApp(t, world, {}, forwarder)
const userId = await connectTwitch(world, 'sim_big')
const broadcasterId = world.sim.control.expectedTwitch('sim_big').userId
t.ok(await eventually(() => refreshedOf(world, userId).length === 1), 'the first refresh is stored')

const followers = async () => (await app.inject({ method: 'GET', url: '/twitch/overview', headers: as(userId) })).json<{ followers: number }>().followers
const received = async () => (await world.db.selectFrom('eventsub_received').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n
const queued = async () => (await publishedEvents(world, TWITCH_EVENTSUB_STREAM, TwitchEventSubMessageV1)).length

t.test('a valid delivery is taken at once (204) and applied from the stream: one more follower, and the activity event', async (t) => {
  const before = await followers()
  const res = await deliver(app, signedDelivery({ subscriptionType: 'channel.follow', version: '2', body: followBody(broadcasterId) }))
  t.equal(res.statusCode, 204)
  t.ok(await eventually(async () => await followers() === before + 1), 'the follower count moved without a refresh')
  t.ok(await eventually(async () => (await publishedEvents(world, METRICS_STREAM, TwitchChannelActivityV1)).some((e) => e.userId === userId && e.kind === 'follow')))
})

t.test('refused, and nothing changes: a wrong signature, one byte changed, a stale timestamp, a replayed id, a missing header', async (t) => {
  // Let anything of the previous test land first.
  t.ok(await drained(world), 'the service has nothing left to do')
  const before = { followers: await followers(), received: await received(), queued: await queued() }
  const good = () => signedDelivery({ subscriptionType: 'channel.follow', version: '2', body: followBody(broadcasterId) })

  const wrongSecret = signedDelivery({ subscriptionType: 'channel.follow', version: '2', body: followBody(broadcasterId), secret: 'another-secret-entirely-000' })
  let res = await deliver(app, wrongSecret)
  t.equal(res.statusCode, 403, 'wrong signature')
  t.equal(JSON.parse(res.body).code, 'TWITCH_WEBHOOK_SIGNATURE')

  const tampered = good()
  // One byte of the body, after signing: the follower's id changes from ...123 to ...124.
  const changed = { ...tampered, payload: tampered.payload.replace('900000123', '900000124') }
  t.not(changed.payload, tampered.payload)
  res = await deliver(app, changed)
  t.equal(res.statusCode, 403, 'one byte changed')
  t.equal(JSON.parse(res.body).code, 'TWITCH_WEBHOOK_SIGNATURE')

  res = await deliver(app, signedDelivery({ subscriptionType: 'channel.follow', version: '2', body: followBody(broadcasterId), timestamp: new Date(Date.now() - 11 * 60_000).toISOString() }))
  t.equal(res.statusCode, 403, 'older than ten minutes')
  t.equal(JSON.parse(res.body).code, 'TWITCH_WEBHOOK_STALE')

  const replayed = good()
  t.equal((await deliver(app, replayed)).statusCode, 204, 'the first time')
  t.ok(await eventually(async () => await followers() === before.followers + 1))
  res = await deliver(app, replayed)
  t.equal(res.statusCode, 403, 'the same message id again')
  t.equal(JSON.parse(res.body).code, 'TWITCH_WEBHOOK_REPLAYED')
  res = await deliver(replica, replayed)
  t.equal(res.statusCode, 403, 'and on another replica')

  for (const name of ['twitch-eventsub-message-id', 'twitch-eventsub-message-signature', 'twitch-eventsub-message-timestamp', 'twitch-eventsub-message-type']) {
    const delivery = good()
    const headers = { ...delivery.headers }
    delete headers[name]
    res = await deliver(app, { ...delivery, headers })
    t.equal(res.statusCode, 400, `without ${name}`)
    t.match(JSON.parse(res.body).message, name, 'the message names the header')
  }
  const badSignature = good()
  res = await deliver(app, { ...badSignature, headers: { ...badSignature.headers, 'twitch-eventsub-message-signature': 'md5=abc' } })
  t.equal(res.statusCode, 400, 'a signature that is not sha256=<hex>')

  // Only the one accepted delivery left a trace.
  t.ok(await drained(world), 'the service has nothing left to do')
  t.equal(await followers(), before.followers + 1)
  t.equal(await received(), before.received + 1)
  t.equal(await queued(), before.queued + 1)
})

t.test('the challenge is answered with the challenge itself, as text/plain', async (t) => {
  const challenge = `pogchamp-kappa-${randomUUID()}`
  const res = await deliver(app, signedDelivery({
    type: 'webhook_callback_verification',
    subscriptionType: 'stream.online',
    body: { challenge, subscription: { id: randomUUID(), status: 'webhook_callback_verification_pending', type: 'stream.online', version: '1', condition: { broadcaster_user_id: broadcasterId } } }
  }))
  t.equal(res.statusCode, 200)
  t.equal(res.body, challenge)
  t.match(String(res.headers['content-type']), /^text\/plain/)
  const forged = signedDelivery({ type: 'webhook_callback_verification', subscriptionType: 'stream.online', body: { challenge, subscription: {} }, secret: 'not-our-secret-at-all' })
  t.equal((await deliver(app, forged)).statusCode, 403, 'an unsigned challenge is not answered')
})

t.test('the same notification sent to two replicas at once, and queued twice, is applied once', async (t) => {
  t.ok(await drained(world), 'the service has nothing left to do')
  const before = await followers()
  const delivery = signedDelivery({ subscriptionType: 'channel.follow', version: '2', body: followBody(broadcasterId, '900000777') })
  const answers = await Promise.all([deliver(app, delivery), deliver(replica, delivery)])
  t.same(answers.map((a) => a.statusCode).sort(), [204, 403], 'one replica takes it, the other sees a replay')

  // JetStream may deliver a message again (a replica died before acknowledging): published twice
  // here, past the stream's de-duplication, the consumer still applies it once.
  const again = signedDelivery({ subscriptionType: 'channel.follow', version: '2', body: followBody(broadcasterId, '900000778') })
  const message = {
    messageId: again.headers['twitch-eventsub-message-id']!, messageType: 'notification' as const, subscriptionType: 'channel.follow',
    subscriptionVersion: '2', sentAt: new Date().toISOString(), body: JSON.parse(again.payload) as Record<string, unknown>
  }
  await Promise.all([world.bus.publish(TwitchEventSubMessageV1, message, { msgID: 'copy-1' }), world.bus.publish(TwitchEventSubMessageV1, message, { msgID: 'copy-2' })])

  t.ok(await eventually(async () => await followers() === before + 2))
  t.ok(await drained(world), 'the service has nothing left to do')
  t.equal(await followers(), before + 2, 'two follows, each counted once')
})
