import { TwitchRefreshRequestedV1, UserDeletedV1 } from '@pulse/contracts'
import { eventually as pollUntil, rowsMentioning } from '@pulse/testing'
import t from 'tap'
import { failedOf, publishLinked, refreshedOf } from '../src/testing/index.js'
import { SCHEMA, buildFakeApp, connect, startFakeWorld } from './fake-service.js'

const eventually = async (fn: () => boolean | Promise<boolean>) => await pollUntil(fn, 20_000)

const deleted = (userId: string) => ({ userId, deletedAt: new Date().toISOString() })

t.test('a deleted account: a service that was down deletes every row naming the user when it starts; late events leave nothing', async (t) => {
  const world = await startFakeWorld(t)
  const before = await buildFakeApp(t, world)
  const leaving = await connect(world, 'p-leaving')
  const staying = await connect(world, 'p-staying')
  t.ok(await eventually(() => refreshedOf(world, leaving).length === 1 && refreshedOf(world, staying).length === 1))
  const mentions = await rowsMentioning(world.db, SCHEMA, leaving)
  t.ok(mentions.snapshots === 1 && mentions.items! > 0 && mentions.tracked_accounts === 1 && mentions.outbox! > 0, 'there is data to delete, the outbox included')
  const stayingBefore = await rowsMentioning(world.db, SCHEMA, staying)

  // The service is down when the account is deleted; the event waits in the stream.
  await before.close()
  await world.bus.publish(UserDeletedV1, deleted(leaving))
  const after = await buildFakeApp(t, world)
  t.ok(await eventually(async () => Object.keys(await rowsMentioning(world.db, SCHEMA, leaving)).length === 0), 'no row of any table mentions the user')
  t.same(await rowsMentioning(world.db, SCHEMA, staying), stayingBefore, 'the other user keeps everything')

  // A link event of before the deletion, redelivered late, and a refresh request still on its way:
  // neither tracks, stores nor reports anything of the deleted user.
  await publishLinked(world, { userId: leaving, provider: 'twitch', providerUserId: 'p-leaving', at: world.clock.now() - 60_000 }, 'p-leaving')
  await world.bus.publish(TwitchRefreshRequestedV1, { userId: leaving, reason: 'scheduled', requestedAt: new Date(world.clock.now()).toISOString() })
  // The same deletion delivered again is a no-op.
  await world.bus.publish(UserDeletedV1, deleted(leaving))
  // Handled after those (each consumer keeps stream order): once the marker is refreshed, they were handled.
  const marker = await connect(world, 'p-marker')
  t.ok(await eventually(() => refreshedOf(world, marker).length === 1))
  t.equal(await after.ingest.trackedAccount(leaving), undefined, 'the late link is ignored')
  t.equal(failedOf(world, leaving).length, 0, 'no failure is reported for a deleted user')
  t.same(await rowsMentioning(world.db, SCHEMA, leaving), {}, 'still no row mentions the user')
})
