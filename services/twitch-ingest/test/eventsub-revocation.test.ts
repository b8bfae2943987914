import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { buildEventSubApp, forwardTo, simAppToken, simSubscriptions, type Forwarder } from './eventsub-helper.js'
import { connectTwitch, eventually, refreshedOf, startWorld } from './helper.js'

// Twitch gives up on a subscription whose notifications keep failing: it ends it
// (notification_failures_exceeded) and posts a `revocation` message. Pulse must subscribe again
// while the channel is still connected. Fast retries keep the story short.
const world = await startWorld(t, { eventsubDelivery: { retryDelaysMs: [20, 20], timeoutMs: 2_000 } })

/** The public address in front of the replica, which can be made to fail notifications (a broken deploy, a bad proxy). */
let failNotifications = false
let target: string | undefined
const server = createServer((req, res) => {
  if (failNotifications && req.headers['twitch-eventsub-message-type'] === 'notification') {
    req.resume()
    res.writeHead(502).end()
    return
  }
  forwardTo(target!, req, res)
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
const forwarder: Forwarder = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, add: (to) => { target = to } }

// Reconciliation on its own timer only once an hour: what follows is the revocation's doing.
await buildEventSubApp(t, world, { TWITCH_EVENTSUB_RECONCILE_S: '3600' }, forwarder)
const userId = await connectTwitch(world, 'sim_big')
const big = world.sim.control.expectedTwitch('sim_big')
const token = await simAppToken(world)
t.ok(await eventually(() => refreshedOf(world, userId).length === 1), 'the first refresh is stored')

const cheerSubs = async () => (await simSubscriptions(world, token)).filter((s) => s.type === 'channel.cheer' && s.condition.broadcaster_user_id === big.userId)

t.test('a subscription Twitch revokes after failed deliveries is created again for a channel still connected', async (t) => {
  t.ok(await eventually(async () => (await simSubscriptions(world, token)).filter((s) => s.status === 'enabled').length === 7), 'subscribed')
  const [before] = await cheerSubs()
  t.equal(before?.status, 'enabled')

  failNotifications = true
  await world.sim.control.cheer('sim_big', 100)
  await world.sim.control.deliveriesSettled()
  const failed = world.sim.control.deliveries().filter((d) => d.subscriptionId === before!.id && d.messageType === 'notification')
  t.same(failed.map((d) => [d.retry, d.status]), [[0, 502], [1, 502], [2, 502]], 'every try failed')
  const revocation = world.sim.control.deliveries().find((d) => d.subscriptionId === before!.id && d.messageType === 'revocation')
  t.equal(revocation?.status, 204, 'the revocation message was taken')
  failNotifications = false

  t.ok(await eventually(async () => {
    const subs = await cheerSubs()
    return subs.length === 1 && subs[0]!.id !== before!.id && subs[0]!.status === 'enabled'
  }), 'a new channel.cheer subscription, verified, and the ended one cleared away')
  t.equal((await simSubscriptions(world, token)).filter((s) => s.status === 'enabled').length, 7, 'nothing else changed')
})
