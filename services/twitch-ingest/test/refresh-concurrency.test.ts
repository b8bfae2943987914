import type { TwitchOverview } from '@pulse/contracts'
import t from 'tap'
import { quiet } from '@pulse/ingest-kit/testing'
import { as, buildApp, connectTwitch, eventually, refreshedOf, startWorld } from './helper.js'

// The independent Helix calls of one refresh are made at once, each list's pages in turn, so a
// refresh takes the round trips of its longest list rather than the sum of them all (bench/
// measures the time; this proves the overlap). The simulator answers each call 100 ms late, as a
// provider far away, and counts the most calls in flight at once and the "waves": calls started
// while no other was in flight, i.e. the sequential round trips of a refresh running alone.

const world = await startWorld(t)
const { app } = await buildApp(t, world)
const { sim } = world
const PAGE = 100 // TWITCH_PAGE_SIZE's default

t.test('one refresh makes all its independent Helix calls in one wave, its longest list paged in turn', async (t) => {
  const userId = await connectTwitch(world, 'sim_mid')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1), 'refreshed once on linking')
  t.ok(await quiet(world), 'nothing else going on (EventSub set-up included)')

  sim.control.setLatency(100)
  t.teardown(() => { sim.control.setLatency(0) })
  sim.control.resetCounts()
  t.equal((await app.inject({ method: 'POST', url: '/twitch/refresh', headers: as(userId) })).statusCode, 202)
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2), 'refreshed again, alone')

  const expected = sim.control.expectedTwitch('sim_mid')
  // Subscriptions and videos are the lists with more than one page; everything else is one call.
  const longest = Math.max(1, Math.ceil(expected.subscribers.total / PAGE), Math.ceil(expected.videos.count / PAGE))
  const waves = sim.control.waves()
  const most = sim.control.maxInFlight()
  t.equal(waves, longest, `round trips: the pages of the longest list (${longest}), Get Users among the first`)
  t.ok(waves <= 3, `at most three round trips (${waves})`)
  // Get Users, followers, subscriptions, followed channels, videos, bits and followed streams: seven
  // at once, never more for one refresh.
  t.equal(most, 7, `every independent call in flight at once (${most})`)
  const calls = Object.values(sim.control.callCounts()).reduce((a, b) => a + b, 0)
  t.ok(calls > waves, `${calls} calls in ${waves} round trips`)

  const overview = (await app.inject({ method: 'GET', url: '/twitch/overview', headers: as(userId) })).json<TwitchOverview>()
  t.same(
    { followers: overview.followers, subscribers: overview.subscribers, followedChannels: overview.followedChannels, videos: overview.videos },
    { followers: expected.followers, subscribers: expected.subscribers, followedChannels: expected.followedChannels, videos: expected.videos }
  )
})

t.test('a token of another Twitch user than the one linked: its own lists are asked for after Get Users', async (t) => {
  const userId = await connectTwitch(world, 'sim_new')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1), 'refreshed once on linking')
  t.ok(await quiet(world))
  // As if the link event had named another account than the one the token is for.
  await world.db.updateTable('tracked_accounts').set({ provider_user_id: 'not-the-token-user' }).where('user_id', '=', userId).execute()
  sim.control.resetCounts()
  t.equal((await app.inject({ method: 'POST', url: '/twitch/refresh', headers: as(userId) })).statusCode, 202)
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2), 'refreshed again')
  const expected = sim.control.expectedTwitch('sim_new')
  const overview = (await app.inject({ method: 'GET', url: '/twitch/overview', headers: as(userId) })).json<TwitchOverview>()
  t.same({ followers: overview.followers, videos: overview.videos }, { followers: expected.followers, videos: expected.videos }, 'the numbers of the token\'s user')
  t.equal(sim.control.callCounts()['GET /helix/users'], 1, 'one Get Users')
})
