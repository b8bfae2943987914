import { TwitterRefreshRequestedV1 } from '@pulse/contracts'
import t from 'tap'
import { as, buildApp, connectX, eventually, failedOf, messagesInStream, refreshedOf, rowsOf, settle, startWorld, unlinkX } from './helper.js'

const world = await startWorld(t)
const first = await buildApp(t, world, { TWITTER_MAX_POSTS: '200' })
const second = await buildApp(t, world, { TWITTER_MAX_POSTS: '200' })
const { sim } = world

const snapshotsOf = async (userId: string) =>
  (await world.db.selectFrom('snapshots').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n

t.test('the same refresh request delivered several times (to two replicas) stores one snapshot and one event', async (t) => {
  const userId = await connectX(world, 'sim_mid')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
  const request = { userId, reason: 'scheduled' as const, requestedAt: new Date(sim.control.now()).toISOString() }
  await Promise.all([1, 2, 3].map((n) => world.bus.publish(TwitterRefreshRequestedV1, request, { msgID: `copy-${n}-${userId}` })))
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2))
  await settle(2000)
  t.equal(refreshedOf(world, userId).length, 2, 'one event for the three copies')
  t.equal(await snapshotsOf(userId), 2, 'one snapshot for the three copies')
})

t.test('the posts stop at TWITTER_MAX_POSTS', async (t) => {
  const before = sim.control.callCounts()['GET /2/users/:id/tweets'] ?? 0
  const userId = await connectX(world, 'sim_big')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
  t.equal((await rowsOf(world.db, userId)).posts, 200, 'the newest 200')
  t.equal((sim.control.callCounts()['GET /2/users/:id/tweets'] ?? 0) - before, 2, 'two pages, none beyond')
})

t.test('unlinking deletes every X row of that user and nothing of anyone else', async (t) => {
  const leaving = await connectX(world, 'sim_big')
  const staying = await connectX(world, 'sim_chatty')
  t.ok(await eventually(() => refreshedOf(world, leaving).length === 1 && refreshedOf(world, staying).length === 1))
  const leavingRows = await rowsOf(world.db, leaving)
  t.ok(leavingRows.snapshots === 1 && leavingRows.posts! > 0, 'there was data to delete')
  const stayingBefore = await rowsOf(world.db, staying)
  await unlinkX(world, leaving, 'sim_big')
  t.ok(await eventually(async () => Object.values(await rowsOf(world.db, leaving)).every((n) => n === 0)), 'every row of the user is gone')
  t.same(await rowsOf(world.db, staying), stayingBefore, 'the other user keeps everything')
  const res = await first.app.inject({ method: 'GET', url: '/twitter/overview', headers: as(leaving) })
  t.equal(res.statusCode, 409)
  t.equal(res.json<{ code: string }>().code, 'TWITTER_NOT_CONNECTED')
  t.equal(failedOf(world, staying).length, 0)
})

t.test('the scheduler of two replicas requests one refresh per account and window', async (t) => {
  const active = (await world.db.selectFrom('tracked_accounts').select('user_id').where('invalidated_at', 'is', null).execute()).length
  t.ok(active >= 2)
  const requestsBefore = await messagesInStream(world, TwitterRefreshRequestedV1.subject)
  const refreshedBefore = world.refreshed.length
  t.equal(await first.app.ingest.runSchedulerTick(), active)
  t.equal(await second.app.ingest.runSchedulerTick(), active)
  t.equal(await messagesInStream(world, TwitterRefreshRequestedV1.subject), requestsBefore + active, 'one request per account in the stream')
  t.ok(await eventually(() => world.refreshed.length === refreshedBefore + active))
  await settle()
  t.equal(world.refreshed.length, refreshedBefore + active, 'each refreshed once')
})
