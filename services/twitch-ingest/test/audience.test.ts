import { METRICS_STREAM, TwitchAudienceV1, type EventPayload } from '@pulse/contracts'
import t from 'tap'
import { as, buildApp, connectTwitch, eventually, refreshedOf, startWorld } from './helper.js'

type Audience = EventPayload<typeof TwitchAudienceV1>
const HOUR = 3600 * 1000

const world = await startWorld(t)
const { app } = await buildApp(t, world)
const audiences: Audience[] = []
await world.bus.consume([TwitchAudienceV1], { durable: 'test-audience', stream: METRICS_STREAM }, async (payload) => { audiences.push(payload as Audience) })

t.test('every refresh says what it saw of the audience: the counts and the followed channels live then, by stream id', async (t) => {
  await world.sim.control.streamOffline('sim_big')
  const userId = await connectTwitch(world, 'sim_mid')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1 && audiences.length === 1))
  const first = audiences[0]!
  t.equal(first.userId, userId)
  t.equal(first.snapshotId, refreshedOf(world, userId)[0]!.snapshotId, 'written with the snapshot')
  t.equal(first.followers, world.sim.control.expectedTwitch('sim_mid').followers)
  t.notOk(first.liveFollows.some((s) => s.login === 'sim_big'), 'sim_big is offline')
  const live = (await app.inject({ url: '/twitch/live-follows', headers: as(userId) })).json<{ items: { login: string }[] }>()
  t.same(first.liveFollows.map((s) => s.login), live.items.map((s) => s.login), 'the same channels as the live-follows list')

  await world.sim.control.streamOnline('sim_big', 250)
  world.sim.control.advanceClock(HOUR)
  t.equal((await app.inject({ method: 'POST', url: '/twitch/refresh', headers: as(userId) })).statusCode, 202)
  t.ok(await eventually(() => audiences.length === 2))
  const big = audiences[1]!.liveFollows.find((s) => s.login === 'sim_big')
  t.ok(big !== undefined, 'sim_big went live between the refreshes')
  world.sim.control.advanceClock(HOUR)
  await app.inject({ method: 'POST', url: '/twitch/refresh', headers: as(userId) })
  t.ok(await eventually(() => audiences.length === 3))
  t.equal(audiences[2]!.liveFollows.find((s) => s.login === 'sim_big')?.streamId, big?.streamId, 'the same stream keeps its id over refreshes')
})
