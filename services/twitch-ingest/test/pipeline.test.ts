import t from 'tap'
import { as, buildApp, connectTwitch, eventually, refreshedOf, rowsOf, startWorld, unlinkTwitch } from './helper.js'

// The pipeline itself (duplicate deliveries, stale links and unlinks, the scheduler, the manual
// refresh limit) is tested once in @pulse/ingest-kit; here only what the Twitch adapter adds.
const world = await startWorld(t)
const { app } = await buildApp(t, world)

t.test('unlinking deletes every Twitch row of that user (each of its lists) and nothing of anyone else', async (t) => {
  const leaving = await connectTwitch(world, 'sim_big')
  const staying = await connectTwitch(world, 'sim_mid')
  t.ok(await eventually(() => refreshedOf(world, leaving).length === 1 && refreshedOf(world, staying).length === 1))
  const leavingRows = await rowsOf(world.db, leaving)
  t.ok(leavingRows.snapshots === 1 && leavingRows.videos! > 0 && leavingRows.subscribers! > 0 && leavingRows.bits_leaderboard! > 0, 'there was data to delete')
  const stayingBefore = await rowsOf(world.db, staying)

  await unlinkTwitch(world, leaving, 'sim_big')
  t.ok(await eventually(async () => Object.values(await rowsOf(world.db, leaving)).every((n) => n === 0)), 'every row of the user is gone')
  t.same(await rowsOf(world.db, staying), stayingBefore, 'the other user keeps everything')
  const res = await app.inject({ method: 'GET', url: '/twitch/overview', headers: as(leaving) })
  t.equal(res.statusCode, 409)
  t.equal(res.json<{ code: string }>().code, 'TWITCH_NOT_CONNECTED')
  t.equal((await app.inject({ method: 'GET', url: '/twitch/overview', headers: as(staying) })).statusCode, 200)
})
