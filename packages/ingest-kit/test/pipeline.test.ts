import { ConnectionInvalidatedV1, TwitchRefreshRequestedV1 } from '@pulse/contracts'
import { eventually as pollUntil } from '@pulse/testing'
import t from 'tap'
import { failedOf, messagesInStream, publishLinked, quiet, refreshedOf, rowsOf } from '../src/testing/index.js'
import { USER_TABLES, as, buildFakeApp, connect, startFakeWorld, unlink } from './fake-service.js'

const eventually = async (fn: () => boolean | Promise<boolean>) => await pollUntil(fn, 20_000)

const world = await startFakeWorld(t)
// Two replicas of the service on one database and one bus, as in production.
const first = await buildFakeApp(t, world)
const second = await buildFakeApp(t, world)
const rows = (userId: string) => rowsOf(world.db, userId, USER_TABLES)

t.test('the same refresh request delivered several times (to two replicas) stores one snapshot and one event', async (t) => {
  const userId = await connect(world, 'p-dup')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
  const request = { userId, reason: 'scheduled' as const, requestedAt: new Date(world.clock.now()).toISOString() }
  // Distinct message ids, so JetStream keeps every copy: the service itself must see they are one request.
  await Promise.all([1, 2, 3].map((n) => world.bus.publish(TwitchRefreshRequestedV1, request, { msgID: `copy-${n}-${userId}` })))
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2), 'the request was handled')
  t.ok(await quiet(world), 'nothing left to do')
  t.equal(refreshedOf(world, userId).length, 2, 'one event for the three copies')
  t.equal((await rows(userId)).snapshots, 2, 'one snapshot for the three copies')
  const processed = await world.db.selectFrom('processed_refreshes').selectAll().where('user_id', '=', userId).where('reason', '=', 'scheduled').execute()
  t.equal(processed.length, 1)
  t.equal(processed[0]!.outcome, 'refreshed')
})

t.test('unlinking deletes every row of that user and nothing of anyone else', async (t) => {
  const leaving = await connect(world, 'p-leaving')
  const staying = await connect(world, 'p-staying')
  t.ok(await eventually(() => refreshedOf(world, leaving).length === 1 && refreshedOf(world, staying).length === 1))
  const leavingRows = await rows(leaving)
  t.ok(leavingRows.snapshots === 1 && leavingRows.items! > 0, 'there was data to delete')
  const stayingBefore = await rows(staying)

  await unlink(world, leaving, 'p-leaving')
  t.ok(await eventually(async () => Object.values(await rows(leaving)).every((n) => n === 0)), 'every row of the user is gone')
  t.same(await rows(staying), stayingBefore, 'the other user keeps everything')
  const res = await first.inject({ method: 'GET', url: '/twitch/history?metric=followers', headers: as(leaving) })
  t.equal(res.statusCode, 409)
  t.equal(res.json<{ code: string }>().code, 'FAKE_NOT_CONNECTED')

  // A refresh request that was still on its way finds nobody to refresh and stores nothing.
  await world.bus.publish(TwitchRefreshRequestedV1, { userId: leaving, reason: 'scheduled', requestedAt: new Date(world.clock.now()).toISOString() })
  t.ok(await eventually(() => failedOf(world, leaving).length === 1))
  t.equal(failedOf(world, leaving)[0]!.reason, 'not_connected')
  t.ok(Object.values(await rows(leaving)).every((n) => n === 0), 'still nothing stored')

  // The link event of before the unlink, redelivered late, does not bring the account back.
  await publishLinked(world, { userId: leaving, provider: 'twitch', providerUserId: 'p-leaving', at: world.clock.now() - 60_000 }, 'p-leaving')
  const marker = await connect(world, 'p-marker') // handled after the stale event: the consumer keeps order
  t.ok(await eventually(async () => await first.ingest.trackedAccount(marker) !== undefined))
  t.equal(await first.ingest.trackedAccount(leaving), undefined, 'the stale link is ignored')
  t.equal((await first.inject({ method: 'GET', url: '/twitch/history?metric=followers', headers: as(staying) })).statusCode, 200)
})

t.test('the scheduler of two replicas requests one refresh per account and interval, spread over it; invalidated accounts are skipped', async (t) => {
  const a = await connect(world, 'p-a')
  const b = await connect(world, 'p-b')
  const gone = await connect(world, 'p-gone')
  t.ok(await eventually(() => [a, b, gone].every((u) => refreshedOf(world, u).length === 1)))
  await world.bus.publish(ConnectionInvalidatedV1, { userId: gone, provider: 'twitch', reason: 'validation failed', invalidatedAt: new Date(world.clock.now()).toISOString() })
  t.ok(await eventually(async () => (await first.ingest.trackedAccount(gone))?.invalidated_at !== null), 'the account is marked invalid')

  const active = (await world.db.selectFrom('tracked_accounts').select('user_id').where('invalidated_at', 'is', null).execute()).length
  const requestsBefore = await messagesInStream(world, TwitchRefreshRequestedV1.subject)
  const refreshedBefore = world.refreshed.length

  // The first tick ever covers the interval before it: every active account once. The two
  // replicas tick at once; one of them does the work, the other finds the progress row locked
  // (or, after it, nothing due in the moment between).
  const both = await Promise.all([first.ingest.runSchedulerTick(), second.ingest.runSchedulerTick()])
  t.equal(Math.max(...both), active, `one replica requests every active account (${both.join(', ')})`)
  t.equal(Math.min(...both), 0, 'the other none')
  t.equal(await first.ingest.runSchedulerTick(), 0, 'a tick right after requests nothing')
  t.equal(await messagesInStream(world, TwitchRefreshRequestedV1.subject), requestsBefore + active, 'the stream holds one request per account')

  t.ok(await eventually(() => world.refreshed.length === refreshedBefore + active), 'each was refreshed')
  t.ok(await quiet(world), 'nothing left to do')
  t.equal(world.refreshed.length, refreshedBefore + active, 'once')
  t.equal(refreshedOf(world, gone).length, 1, 'the invalidated account was not refreshed')

  // Over the next interval, in ten ticks: each tick requests only the accounts whose slot it
  // passed, and together they request every account once more, at its due time.
  const slots = new Map((await world.db.selectFrom('tracked_accounts').select(['user_id', 'refresh_slot']).where('invalidated_at', 'is', null).execute())
    .map((r) => [r.user_id, r.refresh_slot]))
  const perTick: number[] = []
  for (let i = 0; i < 10; i++) {
    world.clock.advance(90 * 1000)
    perTick.push(await (i % 2 === 0 ? first : second).ingest.runSchedulerTick())
  }
  t.equal(perTick.reduce((x, y) => x + y, 0), active, `every account once more over the interval (${perTick.join(', ')})`)
  t.ok(perTick.every((n) => n < active) || active === 1, 'spread over the ticks, not all at once')
  t.ok(await eventually(() => world.refreshed.length === refreshedBefore + 2 * active), 'each was refreshed again')
  const requested = await world.db.selectFrom('processed_refreshes').select(['user_id', 'requested_at']).where('reason', '=', 'scheduled').execute()
  const interval = 15 * 60 * 1000
  // (The accounts of this test: earlier ones had scheduled requests published by hand.)
  for (const userId of [a, b]) {
    const slot = slots.get(userId)!
    const times = requested.filter((r) => r.user_id === userId).map((r) => r.requested_at.getTime()).sort((x, y) => x - y)
    t.equal(times.length, 2, `two scheduled refreshes of ${userId}`)
    t.equal(times[1]! - times[0]!, interval, 'one interval apart')
    t.equal(times[0]! % interval, Math.floor(slot * interval / 1_000_000), 'at the account\'s slot in the interval')
  }
})

t.test('an unlink that arrives after a newer link leaves the new connection tracked and its data in place', async (t) => {
  const userId = await connect(world, 'p-relinked')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
  const tracked = await first.ingest.trackedAccount(userId)
  t.ok(tracked !== undefined)
  const rowsBefore = await rows(userId)
  t.ok(rowsBefore.snapshots === 1, 'the new connection has data')

  // The unlink of the previous connection, from before this link, delivered only now.
  await unlink(world, userId, 'p-relinked', tracked!.linked_at.getTime() - 60_000)
  const marker = await connect(world, 'p-marker-2') // handled after the late unlink: the consumer keeps order
  t.ok(await eventually(async () => await first.ingest.trackedAccount(marker) !== undefined))
  t.same(await first.ingest.trackedAccount(userId), tracked, 'still tracked, unchanged')
  t.same(await rows(userId), rowsBefore, 'nothing deleted')

  // A real unlink, after the link, still deletes.
  await unlink(world, userId, 'p-relinked')
  t.ok(await eventually(async () => await first.ingest.trackedAccount(userId) === undefined), 'a current unlink still ends the tracking')
})

t.test('POST /<provider>/refresh answers 202, then 429 with retry-after within the minute, then 202 again after it', async (t) => {
  const userId = await connect(world, 'p-manual')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
  const accepted = await first.inject({ method: 'POST', url: '/twitch/refresh', headers: as(userId) })
  t.equal(accepted.statusCode, 202)
  const requestedAt = accepted.json<{ requestedAt: string }>().requestedAt
  t.equal(requestedAt, new Date(Date.parse(requestedAt)).toISOString())
  const again = await second.inject({ method: 'POST', url: '/twitch/refresh', headers: as(userId) })
  t.equal(again.statusCode, 429, 'the limit holds across replicas')
  t.equal(again.json<{ code: string }>().code, 'FAKE_REFRESH_TOO_SOON')
  const retryAfter = Number(again.headers['retry-after'])
  t.ok(retryAfter > 0 && retryAfter <= 60, `retry-after ${retryAfter} s`)
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2), 'the accepted request was carried out')
  world.clock.advance(61_000)
  t.equal((await first.inject({ method: 'POST', url: '/twitch/refresh', headers: as(userId) })).statusCode, 202, 'a minute later it is accepted')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 3))
})
