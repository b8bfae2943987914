import {
  METRICS_STREAM, TWITCH_EVENTSUB_STREAM, TwitchAuthorizationRevokedV1, TwitchChannelActivityV1, TwitchConnectionRevokedV1, TwitchStreamChangedV1
} from '@pulse/contracts'
import t from 'tap'
import { buildEventSubApp, publishedEvents, simAppToken, simSubscriptions } from './eventsub-helper.js'
import { as, connectTwitch, eventually, refreshedOf, startWorld, unlinkTwitch } from './helper.js'

// Against the simulator over real HTTP: it verifies the callback, signs and delivers the events.
const SAMPLE_S = 60
const world = await startWorld(t)
const { app, callbackUrl } = await buildEventSubApp(t, world, { TWITCH_STREAM_SAMPLE_S: String(SAMPLE_S) })
const eventsub = app.twitchEventSub!
const userId = await connectTwitch(world, 'sim_big')
const big = world.sim.control.expectedTwitch('sim_big')
const token = await simAppToken(world)
t.ok(await eventually(() => refreshedOf(world, userId).length === 1), 'the first refresh is stored')

const live = async () => (await simSubscriptions(world, token)).filter((s) => s.status === 'enabled')
const channelTypes = ['channel.cheer', 'channel.follow', 'channel.subscribe', 'channel.subscription.gift', 'stream.offline', 'stream.online']

t.test('connecting a channel subscribes to its events (verified through the challenge), plus the app\'s revocations', async (t) => {
  t.ok(await eventually(async () => (await live()).length === 7), 'seven subscriptions enabled at Twitch')
  const subs = await live()
  t.same(subs.filter((s) => s.condition.broadcaster_user_id === big.userId).map((s) => s.type).sort(), channelTypes)
  t.same(subs.filter((s) => s.type === 'user.authorization.revoke').map((s) => s.condition), [{ client_id: 'pulsesimtwitchclientid00000000' }])
  t.ok(callbackUrl.endsWith('/webhooks/twitch'))
})

t.test('a follow and a subscription from Twitch move the numbers at once', async (t) => {
  const overview = async () => (await app.inject({ method: 'GET', url: '/twitch/overview', headers: as(userId) })).json<{ followers: number, subscribers: { total: number, points: number } }>()
  const before = await overview()
  await world.sim.control.follow('sim_big')
  await world.sim.control.subscribe('sim_big', '3000')
  await world.sim.control.cheer('sim_big', 500)
  t.ok(await eventually(async () => {
    const now = await overview()
    return now.followers === before.followers + 1 && now.subscribers.total === before.subscribers.total + 1
  }), 'one more follower and one more subscriber')
  t.equal((await overview()).subscribers.points, before.subscribers.points + 6, 'tier 3000 is worth six points')
  t.ok(await eventually(async () => {
    const kinds = (await publishedEvents(world, METRICS_STREAM, TwitchChannelActivityV1)).filter((e) => e.userId === userId).map((e) => e.kind)
    return ['follow', 'subscribe', 'cheer'].every((k) => kinds.includes(k as never))
  }), 'each reaches /events as metrics.activity')
})

t.test('subscriptions deleted behind Pulse\'s back are recreated', async (t) => {
  const [gone, alsoGone] = (await live()).filter((s) => s.type === 'stream.online' || s.type === 'channel.follow')
  for (const sub of [gone!, alsoGone!]) {
    const res = await fetch(`${world.sim.twitchApiUrl}/eventsub/subscriptions?id=${sub.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}`, 'Client-Id': 'pulsesimtwitchclientid00000000' } })
    t.equal(res.status, 204)
  }
  t.equal((await live()).length, 5)
  const outcome = await eventsub.reconcile()
  t.match(outcome, { ran: true, created: 2, deleted: 0 })
  t.ok(await eventually(async () => (await live()).length === 7), 'enabled again')
  t.same((await live()).filter((s) => s.condition.broadcaster_user_id === big.userId).map((s) => s.type).sort(), channelTypes)
  t.match(await eventsub.reconcile(), { ran: true, created: 0, deleted: 0 }, 'a second run has nothing to do')
})

t.test('a stream session from online through samples to offline has the right peak, average and length', async (t) => {
  const sessions = async () => (await app.inject({ method: 'GET', url: '/twitch/streams', headers: as(userId) })).json<{ items: Array<Record<string, unknown>> }>().items
  await world.sim.control.streamOnline('sim_big', 100, '509658')
  const onlineAt = world.sim.control.now()
  t.ok(await eventually(async () => (await sessions()).length === 1), 'stream.online opened a session')
  t.match((await sessions())[0], { endedAt: null, samples: 0, peakViewers: null })

  for (const viewers of [100, 300, 200]) {
    world.sim.control.setViewers('sim_big', viewers)
    t.equal(await eventsub.sampleNow(), 1)
    // A second sample in the same slot (another replica's) does not count twice.
    t.equal(await eventsub.sampleNow(), 1)
    world.sim.control.advanceClock(SAMPLE_S * 1000)
  }
  await world.sim.control.streamOffline('sim_big')
  const offlineAt = world.sim.control.now()
  t.ok(await eventually(async () => (await sessions())[0]?.endedAt !== null), 'stream.offline closed it')
  const [session] = await sessions()
  t.match(session, { samples: 3, peakViewers: 300, averageViewers: 200, gameId: '509658', gameName: /\w/ })
  const length = Number(session!.durationSeconds)
  t.ok(Math.abs(length - (offlineAt - onlineAt) / 1000) <= 5, `lasted ${length} s, about ${(offlineAt - onlineAt) / 1000} s`)
  t.ok(length >= 3 * SAMPLE_S)
  const changes = (await publishedEvents(world, METRICS_STREAM, TwitchStreamChangedV1)).filter((e) => e.userId === userId)
  t.same(changes.map((e) => e.state), ['online', 'offline'])
})

t.test('disconnecting a channel deletes its subscriptions, and only its', async (t) => {
  const midUser = await connectTwitch(world, 'sim_mid')
  const mid = world.sim.control.expectedTwitch('sim_mid')
  const ofMid = async () => (await simSubscriptions(world, token)).filter((s) => s.condition.broadcaster_user_id === mid.userId)
  t.ok(await eventually(async () => (await ofMid()).filter((s) => s.status === 'enabled').length === 6), 'subscribed when connected')
  await unlinkTwitch(world, midUser, 'sim_mid')
  t.ok(await eventually(async () => (await ofMid()).length === 0), 'deleted when disconnected')
  t.equal((await live()).length, 7, 'sim_big\'s and the app\'s stay')
})

t.test('the user revoking Pulse\'s access: connection marked, auth told to delete the tokens, the user told, subscriptions cleared', async (t) => {
  const res = await fetch(`${world.sim.url}/_sim/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ provider: 'twitch', login: 'sim_big' }) })
  t.equal(res.status, 204)
  t.ok(await eventually(async () => (await world.db.selectFrom('tracked_accounts').select('invalid_reason').where('user_id', '=', userId).executeTakeFirst())?.invalid_reason === 'authorization_revoked'), 'the connection is marked')
  t.ok(await eventually(async () => (await publishedEvents(world, TWITCH_EVENTSUB_STREAM, TwitchAuthorizationRevokedV1)).some((e) => e.userId === userId && e.providerUserId === big.userId)), 'auth is asked to delete the tokens')
  t.ok(await eventually(async () => (await publishedEvents(world, METRICS_STREAM, TwitchConnectionRevokedV1)).some((e) => e.userId === userId)), 'the user hears of it')
  const overview = (await app.inject({ method: 'GET', url: '/twitch/overview', headers: as(userId) })).json<{ connection: { status: string } }>()
  t.equal(overview.connection.status, 'invalidated')
  // The revocation messages of the channel's subscriptions lead to a reconciliation: what is left
  // is the app's own user.authorization.revoke.
  t.ok(await eventually(async () => {
    const subs = await simSubscriptions(world, token)
    return subs.length === 1 && subs[0]!.type === 'user.authorization.revoke'
  }), 'the channel\'s subscriptions are gone')
})
