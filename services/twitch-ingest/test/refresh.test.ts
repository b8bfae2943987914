import type { TwitchHistory, TwitchOverview } from '@pulse/contracts'
import t from 'tap'
import { as, buildApp, connectTwitch, eventually, refreshedOf, drained, startWorld } from './helper.js'

const DAY = 24 * 3600 * 1000

const world = await startWorld(t)
const { app } = await buildApp(t, world)
const { sim } = world

/** The overview's numbers in the shape of the simulator's expectations. */
const numbersOf = (o: TwitchOverview) => ({ followers: o.followers, subscribers: o.subscribers, followedChannels: o.followedChannels, videos: o.videos })
const expectedNumbers = (login: string) => {
  const e = sim.control.expectedTwitch(login)
  return { followers: e.followers, subscribers: e.subscribers, followedChannels: e.followedChannels, videos: e.videos }
}

t.test('a linked account is refreshed at once: the snapshot holds the numbers Twitch shows, and one event says so', async (t) => {
  const big = await connectTwitch(world, 'sim_big')
  const mid = await connectTwitch(world, 'sim_mid')
  t.ok(await eventually(() => refreshedOf(world, big).length === 1 && refreshedOf(world, mid).length === 1), 'both refreshed')

  for (const [userId, login] of [[big, 'sim_big'], [mid, 'sim_mid']] as const) {
    const res = await app.inject({ method: 'GET', url: '/twitch/overview', headers: as(userId) })
    t.equal(res.statusCode, 200)
    const overview = res.json<TwitchOverview>()
    t.same(numbersOf(overview), expectedNumbers(login), `${login}: the overview equals the simulator's numbers`)
    t.equal(overview.connection.login, login)
    t.equal(overview.connection.status, 'active')
    t.same(overview.change, { '1d': null, '7d': null, '30d': null }, 'no snapshot is old enough to compare with yet')

    const snapshots = await world.db.selectFrom('snapshots').selectAll().where('user_id', '=', userId).execute()
    t.equal(snapshots.length, 1, 'one snapshot stored')
    t.equal(snapshots[0]!.id, refreshedOf(world, userId)[0]!.snapshotId, 'the event names the stored snapshot')
    t.equal(refreshedOf(world, userId)[0]!.provider, 'twitch')
  }
  const e = sim.control.expectedTwitch('sim_big')
  t.ok(e.followers > 10_000 && e.subscribers.total > 100, 'sim_big is a big channel (the test covers several pages)')

  t.ok(await drained(world), 'the service has nothing left to do')
  t.equal(refreshedOf(world, big).length, 1, 'exactly one refreshed event per refresh')
  t.equal(world.failed.length, 0, 'nothing failed')
})

t.test('a refresh two days later adds a history point and the overview shows the change', async (t) => {
  const userId = await connectTwitch(world, 'sim_big')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
  const before = expectedNumbers('sim_big')
  const firstCapture = refreshedOf(world, userId)[0]!.capturedAt

  sim.control.advanceClock(2 * DAY)
  const refresh = await app.inject({ method: 'POST', url: '/twitch/refresh', headers: as(userId) })
  t.equal(refresh.statusCode, 202)
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2), 'the manual refresh was stored')
  const after = expectedNumbers('sim_big')
  t.not(after.followers, before.followers, 'the channel grew in two simulated days')

  const overview = (await app.inject({ method: 'GET', url: '/twitch/overview', headers: as(userId) })).json<TwitchOverview>()
  t.same(numbersOf(overview), after, 'the overview shows the new numbers')
  t.same(overview.change['1d'], {
    since: firstCapture,
    followers: after.followers - before.followers,
    subscribers: after.subscribers.total - before.subscribers.total,
    subscriberPoints: after.subscribers.points - before.subscribers.points,
    followedChannels: after.followedChannels - before.followedChannels,
    videoViews: after.videos.views - before.videos.views,
    videoCount: after.videos.count - before.videos.count
  }, 'the change over a day compares with the snapshot two days old')
  t.equal(overview.change['7d'], null, 'nothing is a week old')

  const history = await app.inject({ method: 'GET', url: '/twitch/history?metric=followers', headers: as(userId) })
  t.equal(history.statusCode, 200)
  t.same(history.json<TwitchHistory>().points, [
    { t: firstCapture, value: before.followers },
    { t: refreshedOf(world, userId)[1]!.capturedAt, value: after.followers }
  ], 'two points, oldest first')

  const views = (await app.inject({ method: 'GET', url: '/twitch/history?metric=videoViews', headers: as(userId) })).json<TwitchHistory>()
  t.same(views.points.map((p) => p.value), [before.videos.views, after.videos.views])
})

t.test('a token with fewer scopes still gives the follower total (the followers trap); what it cannot read stays null', async (t) => {
  const userId = await connectTwitch(world, 'sim_big', { scopes: ['user:read:follows'] })
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
  const overview = (await app.inject({ method: 'GET', url: '/twitch/overview', headers: as(userId) })).json<TwitchOverview>()
  const expected = expectedNumbers('sim_big')
  t.equal(overview.followers, expected.followers, 'the total comes without moderator:read:followers')
  t.equal(overview.subscribers, null, 'no subscriptions without channel:read:subscriptions')
  t.same(overview.videos, expected.videos)
  t.equal(overview.followedChannels, expected.followedChannels)
  const subs = (await app.inject({ method: 'GET', url: '/twitch/subscribers', headers: as(userId) })).json<{ items: unknown[] }>()
  t.same(subs.items, [])
  const history = (await app.inject({ method: 'GET', url: '/twitch/history?metric=subscribers', headers: as(userId) })).json<TwitchHistory>()
  t.same(history.points, [], 'no subscriber history either')
  t.equal(world.failed.filter((f) => f.userId === userId).length, 0)
})
