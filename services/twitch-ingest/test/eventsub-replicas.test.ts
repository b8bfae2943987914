import t from 'tap'
import { buildEventSubApp, simAppToken, simSubscriptions, startForwarder } from './eventsub-helper.js'
import { buildApp, connectTwitch, eventually, refreshedOf, startWorld } from './helper.js'

// Two replicas starting together reconcile under one lease: each subscription is created once.
const world = await startWorld(t)
const token = await simAppToken(world)
{
  // The channels are tracked before EventSub is turned on.
  // (This replica has EventSub off and stays up: it only tracks the channels.)
  await buildApp(t, world)
  const big = await connectTwitch(world, 'sim_big')
  const mid = await connectTwitch(world, 'sim_mid')
  t.ok(await eventually(() => refreshedOf(world, big).length === 1 && refreshedOf(world, mid).length === 1))
}
world.sim.control.resetCounts()

t.test('two replicas starting together create each subscription once', async (t) => {
  // Two replicas behind one public address, as behind the gateway.
  const forwarder = await startForwarder(t)
  const [a, b] = await Promise.all([buildEventSubApp(t, world, {}, forwarder), buildEventSubApp(t, world, {}, forwarder)])
  // 6 types × 2 channels + the app's user.authorization.revoke.
  t.ok(await eventually(async () => (await simSubscriptions(world, token)).filter((s) => s.status === 'enabled').length === 13), 'all thirteen enabled')
  // Both replicas ask again at the same moment: whoever gets the lease finds nothing to do.
  const outcomes = await Promise.all([a.app.twitchEventSub!.reconcile(), b.app.twitchEventSub!.reconcile()])
  for (const outcome of outcomes) t.match(outcome, { created: 0 })
  const subs = await simSubscriptions(world, token)
  t.equal(subs.length, 13, 'no duplicates at Twitch')
  t.equal(new Set(subs.map((s) => `${s.type}:${JSON.stringify(s.condition)}`)).size, 13)
  t.equal(world.sim.control.callCounts()['POST /helix/eventsub/subscriptions'], 13, 'thirteen creations asked for, not one more')
})
