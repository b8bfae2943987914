import { AUTH_STREAM, UserDeletedV1 } from '@pulse/contracts'
import { createTestDatabase, eventually, rowsMentioning, uniqueName } from '@pulse/testing'
import t from 'tap'
import { MOOD_SCHEMA } from '../src/db/database.js'
import { build, identity, logMood, newUserId } from './helper.js'

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString()

t.test('a deleted account: mood, down at that moment, deletes every row of the user when it starts again, and nobody else\'s', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const env = { NATS_PREFIX: uniqueName('mood') }
  const first = await build(t, { databaseUrl, env })
  const leaving = newUserId()
  const staying = newUserId()
  for (const n of [2, 1, 0]) {
    await logMood(first.app, leaving, { score: 4, label: 'fine', loggedAt: daysAgo(n) })
    await logMood(first.app, staying, { score: 3, loggedAt: daysAgo(n) })
  }
  const keyed = await first.app.inject({ method: 'POST', url: '/mood', headers: { ...identity(leaving), 'idempotency-key': 'k-1' }, payload: { score: 5 } })
  t.equal(keyed.statusCode, 201)
  const before = await rowsMentioning(first.db, MOOD_SCHEMA, leaving)
  t.ok(before.entries === 4 && before.streak_runs! > 0 && before.user_streaks === 1 && before.idempotency_keys === 1, 'there is something to delete in every table')
  const stayingBefore = await rowsMentioning(first.db, MOOD_SCHEMA, staying)

  await first.app.close()
  await first.bus.publish(UserDeletedV1, { userId: leaving, deletedAt: new Date().toISOString() })
  const second = await build(t, { databaseUrl, env })
  t.ok(await eventually(async () => Object.keys(await rowsMentioning(second.db, MOOD_SCHEMA, leaving)).length === 0, 20_000), 'no row of any table mentions the user')
  t.same(await rowsMentioning(second.db, MOOD_SCHEMA, staying), stayingBefore, 'the other user keeps everything')
  const list = await second.app.inject({ method: 'GET', url: '/mood', headers: identity(leaving) })
  t.same(list.json<{ items: unknown[] }>().items, [])

  // Delivered again (a redelivery): nothing to do, nothing fails.
  await second.bus.publish(UserDeletedV1, { userId: leaving, deletedAt: new Date().toISOString() })
  await second.bus.publish(UserDeletedV1, { userId: newUserId(), deletedAt: new Date().toISOString() })
  t.ok(await eventually(async () => {
    const info = await second.bus.jsm.consumers.info(second.bus.streamName(AUTH_STREAM), 'mood-user-deleted')
    return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq === 3
  }, 20_000), 'every deletion was handled and acknowledged')
  t.same(await rowsMentioning(second.db, MOOD_SCHEMA, staying), stayingBefore)
})
