import type { TwitchOverview } from '@pulse/contracts'
import t from 'tap'
import { as, buildApp, connectTwitch, eventually, refreshedOf, startWorld } from './helper.js'

// The independent Helix lists of one refresh are asked for at once, each list's pages in turn, so a
// refresh takes the time of its longest list rather than the sum of them all (bench/ measures the
// time; this proves the overlap). The simulator answers each call 50 ms late, as a provider far away.

const world = await startWorld(t)
const { app } = await buildApp(t, world)
const { sim } = world

t.test('one refresh has its independent Helix calls in flight together, and the numbers are still right', async (t) => {
  sim.control.setLatency(50)
  t.teardown(() => { sim.control.setLatency(0) })
  sim.control.resetCounts()
  const userId = await connectTwitch(world, 'sim_mid')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1), 'refreshed')
  const most = sim.control.maxInFlight()
  // Get Users first (the rest needs its id), then followers, subscriptions, followed channels,
  // videos, bits and followed streams: six lists at once, never more for one refresh.
  t.ok(most >= 4, `several calls in flight at once (${most})`)
  t.ok(most <= 6, `no more than the six independent lists (${most})`)
  const overview = (await app.inject({ method: 'GET', url: '/twitch/overview', headers: as(userId) })).json<TwitchOverview>()
  const expected = sim.control.expectedTwitch('sim_mid')
  t.same(
    { followers: overview.followers, subscribers: overview.subscribers, followedChannels: overview.followedChannels, videos: overview.videos },
    { followers: expected.followers, subscribers: expected.subscribers, followedChannels: expected.followedChannels, videos: expected.videos }
  )
})
