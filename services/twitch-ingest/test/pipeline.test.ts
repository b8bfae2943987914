import { ConnectionInvalidatedV1, ConnectionLinkedV1, ConnectionUnlinkedV1, TwitchRefreshRequestedV1, type TwitchOverview } from '@pulse/contracts'
import t from 'tap'
import {
  as, buildApp, connectTwitch, eventually, failedOf, messagesInStream, refreshedOf, rowsOf, settle, startWorld, unlinkTwitch
} from './helper.js'

const world = await startWorld(t)
// Two replicas of the service on one database and one bus, as in production.
const first = await buildApp(t, world)
const second = await buildApp(t, world)
const { sim } = world

const snapshotsOf = async (userId: string) =>
  (await world.db.selectFrom('snapshots').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n

t.test('the same refresh request delivered several times (to two replicas) stores one snapshot and one event', async (t) => {
  const userId = await connectTwitch(world, 'sim_mid')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
  const request = { userId, reason: 'scheduled' as const, requestedAt: new Date(sim.control.now()).toISOString() }
  // Distinct message ids, so JetStream keeps every copy: the service itself must see they are one request.
  await Promise.all([1, 2, 3].map((n) => world.bus.publish(TwitchRefreshRequestedV1, request, { msgID: `copy-${n}-${userId}` })))
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2), 'the request was handled')
  await settle(2000)
  t.equal(refreshedOf(world, userId).length, 2, 'one event for the three copies')
  t.equal(await snapshotsOf(userId), 2, 'one snapshot for the three copies')
  const processed = await world.db.selectFrom('processed_refreshes').selectAll().where('user_id', '=', userId).where('reason', '=', 'scheduled').execute()
  t.equal(processed.length, 1)
  t.equal(processed[0]!.outcome, 'refreshed')
})

t.test('unlinking deletes every Twitch row of that user and nothing of anyone else', async (t) => {
  const leaving = await connectTwitch(world, 'sim_big')
  const staying = await connectTwitch(world, 'sim_mid')
  t.ok(await eventually(() => refreshedOf(world, leaving).length === 1 && refreshedOf(world, staying).length === 1))
  const leavingRows = await rowsOf(world.db, leaving)
  t.ok(leavingRows.snapshots === 1 && leavingRows.videos! > 0 && leavingRows.subscribers! > 0 && leavingRows.bits_leaderboard! > 0, 'there was data to delete')
  const stayingBefore = await rowsOf(world.db, staying)

  await unlinkTwitch(world, leaving, 'sim_big')
  t.ok(await eventually(async () => Object.values(await rowsOf(world.db, leaving)).every((n) => n === 0)), 'every row of the user is gone')
  t.same(await rowsOf(world.db, staying), stayingBefore, 'the other user keeps everything')
  const res = await first.app.inject({ method: 'GET', url: '/twitch/overview', headers: as(leaving) })
  t.equal(res.statusCode, 409)
  t.equal(res.json<{ code: string }>().code, 'TWITCH_NOT_CONNECTED')

  // A refresh request that was still on its way finds nobody to refresh and stores nothing.
  await world.bus.publish(TwitchRefreshRequestedV1, { userId: leaving, reason: 'scheduled', requestedAt: new Date(sim.control.now()).toISOString() })
  t.ok(await eventually(() => failedOf(world, leaving).length === 1))
  t.equal(failedOf(world, leaving)[0]!.reason, 'not_connected')
  t.ok(Object.values(await rowsOf(world.db, leaving)).every((n) => n === 0), 'still nothing stored')

  // The link event of before the unlink, redelivered late, does not bring the account back.
  await world.bus.publish(ConnectionLinkedV1, {
    userId: leaving, provider: 'twitch', providerUserId: sim.control.expectedTwitch('sim_big').userId, providerLogin: 'sim_big',
    linkedAt: new Date(sim.control.now() - 60_000).toISOString()
  })
  const marker = await connectTwitch(world, 'sim_new') // handled after the stale event: the consumer keeps order
  t.ok(await eventually(async () => await first.app.ingest.trackedAccount(marker) !== undefined))
  t.equal(await first.app.ingest.trackedAccount(leaving), undefined, 'the stale link is ignored')
  t.equal((await first.app.inject({ method: 'GET', url: '/twitch/overview', headers: as(staying) })).statusCode, 200)
})

t.test('the scheduler of two replicas requests one refresh per account and window; invalidated accounts are skipped', async (t) => {
  const a = await connectTwitch(world, 'sim_new')
  const b = await connectTwitch(world, 'sim_mid')
  const gone = await connectTwitch(world, 'sim_big')
  t.ok(await eventually(() => [a, b, gone].every((u) => refreshedOf(world, u).length === 1)))
  await world.bus.publish(ConnectionInvalidatedV1, { userId: gone, provider: 'twitch', reason: 'validation failed', invalidatedAt: new Date(sim.control.now()).toISOString() })
  t.ok(await eventually(async () => (await first.app.ingest.trackedAccount(gone))?.invalidated_at !== null), 'the account is marked invalid')
  const overview = (await first.app.inject({ method: 'GET', url: '/twitch/overview', headers: as(gone) })).json<TwitchOverview>()
  t.equal(overview.connection.status, 'invalidated', 'the overview says so')

  const active = (await world.db.selectFrom('tracked_accounts').select('user_id').where('invalidated_at', 'is', null).execute()).length
  const requestsBefore = await messagesInStream(world, TwitchRefreshRequestedV1.subject)
  const refreshedBefore = world.refreshed.length

  t.equal(await first.app.ingest.runSchedulerTick(), active, 'the first replica requests every active account')
  t.equal(await second.app.ingest.runSchedulerTick(), active, 'so does the second')
  t.equal(await first.app.ingest.runSchedulerTick(), 0, 'a second tick in the same window requests nothing')
  t.equal(await messagesInStream(world, TwitchRefreshRequestedV1.subject), requestsBefore + active, 'the stream holds one request per account')

  t.ok(await eventually(() => world.refreshed.length === refreshedBefore + active), 'each was refreshed')
  await settle()
  t.equal(world.refreshed.length, refreshedBefore + active, 'once')
  t.equal(refreshedOf(world, gone).length, 1, 'the invalidated account was not refreshed')

  sim.control.advanceClock(15 * 60 * 1000)
  t.equal(await first.app.ingest.runSchedulerTick(), active, 'the next window requests again')
})

t.test('an unlink that arrives after a newer link leaves the new connection tracked and its data in place', async (t) => {
  const userId = await connectTwitch(world, 'sim_mid')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
  const tracked = await first.app.ingest.trackedAccount(userId)
  t.ok(tracked !== undefined)
  const rowsBefore = await rowsOf(world.db, userId)
  t.ok(rowsBefore.snapshots === 1, 'the new connection has data')

  // The unlink of the previous connection, from before this link, delivered only now.
  await world.bus.publish(ConnectionUnlinkedV1, {
    userId, provider: 'twitch', providerUserId: sim.control.expectedTwitch('sim_mid').userId,
    unlinkedAt: new Date(tracked!.linked_at.getTime() - 60_000).toISOString()
  })
  const marker = await connectTwitch(world, 'sim_new') // handled after the late unlink: the consumer keeps order
  t.ok(await eventually(async () => await first.app.ingest.trackedAccount(marker) !== undefined))
  t.same(await first.app.ingest.trackedAccount(userId), tracked, 'still tracked, unchanged')
  t.same(await rowsOf(world.db, userId), rowsBefore, 'nothing deleted')

  // A real unlink, after the link, still deletes.
  await unlinkTwitch(world, userId, 'sim_mid')
  t.ok(await eventually(async () => await first.app.ingest.trackedAccount(userId) === undefined), 'a current unlink still ends the tracking')
})
