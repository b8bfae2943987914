import t from 'tap'
import { as, buildApp, connectX, eventually, failedOf, refreshedOf, rowsOf, startWorld, unlinkX } from './helper.js'

// The pipeline itself (duplicate deliveries, stale links and unlinks, the scheduler, the manual
// refresh limit) is tested once in @pulse/ingest-kit; here only what the X adapter adds.
const world = await startWorld(t)
const { app } = await buildApp(t, world, { TWITTER_MAX_POSTS: '200' })
const { sim } = world

t.test('the posts stop at TWITTER_MAX_POSTS', async (t) => {
  const before = sim.control.callCounts()['GET /2/users/:id/tweets'] ?? 0
  const userId = await connectX(world, 'sim_big')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
  t.equal((await rowsOf(world.db, userId)).posts, 200, 'the newest 200')
  t.equal((sim.control.callCounts()['GET /2/users/:id/tweets'] ?? 0) - before, 2, 'two pages, none beyond')
})

t.test('unlinking deletes every X row of that user (its posts) and nothing of anyone else', async (t) => {
  const leaving = await connectX(world, 'sim_big')
  const staying = await connectX(world, 'sim_chatty')
  t.ok(await eventually(() => refreshedOf(world, leaving).length === 1 && refreshedOf(world, staying).length === 1))
  const leavingRows = await rowsOf(world.db, leaving)
  t.ok(leavingRows.snapshots === 1 && leavingRows.posts! > 0, 'there was data to delete')
  const stayingBefore = await rowsOf(world.db, staying)
  await unlinkX(world, leaving, 'sim_big')
  t.ok(await eventually(async () => Object.values(await rowsOf(world.db, leaving)).every((n) => n === 0)), 'every row of the user is gone')
  t.same(await rowsOf(world.db, staying), stayingBefore, 'the other user keeps everything')
  const res = await app.inject({ method: 'GET', url: '/twitter/overview', headers: as(leaving) })
  t.equal(res.statusCode, 409)
  t.equal(res.json<{ code: string }>().code, 'TWITTER_NOT_CONNECTED')
  t.equal(failedOf(world, staying).length, 0)
})
