import { randomUUID } from 'node:crypto'
import { UserDeletedV1 } from '@pulse/contracts'
import { sql } from 'kysely'
import t from 'tap'
import { build, eventually, fakeAuth, userHeader } from './helper.js'

t.test('a deleted account: its settings, endpoints, deliveries, reminder and audience rows go, and nobody else\'s', async (t) => {
  const built = await build(t, { env: { NOTIFY_WEBHOOKS_ALLOW_PRIVATE: 'true' } })
  const auth = await fakeAuth(t, built.config.NATS_PREFIX, [])
  const leaving = randomUUID()
  const staying = randomUUID()
  for (const userId of [leaving, staying]) {
    await built.app.inject({ method: 'PATCH', url: '/notify/settings', headers: userHeader('user', userId), payload: { changes: [{ kind: 'milestone', channel: 'email', enabled: false }] } })
    await built.app.inject({ method: 'PUT', url: '/notify/mood-reminder', headers: userHeader('user', userId), payload: { time: '23:59' } })
    const endpoint = await built.app.inject({ method: 'POST', url: '/notify/webhooks', headers: userHeader('user', userId), payload: { url: 'http://127.0.0.1:9/hooks' } })
    await built.db.insertInto('audience_state').values({ user_id: userId, followers_milestone: 100, subscribers_milestone: null }).execute()
    await built.db.insertInto('followed_streams').values({ user_id: userId, stream_id: 's-1' }).execute()
    await built.db.insertInto('deliveries').values({
      event_key: 'k', kind: 'milestone', user_id: userId, channel: 'live', target: 'live', status: 'sent', payload: JSON.stringify({ title: 't', body: 'b', data: {}, at: new Date().toISOString() })
    }).execute()
    void endpoint
    await built.db.insertInto('outbox').values({ subject: 'notify.notification.v1', payload: JSON.stringify({ userId, id: 'n', kind: 'milestone', title: 't', body: 'b', at: new Date().toISOString() }) }).execute()
  }
  const mentions = async (userId: string) => {
    const tables = ['settings', 'webhook_endpoints', 'deliveries', 'audience_state', 'followed_streams', 'mood_reminders'] as const
    let n = 0
    for (const table of tables) n += (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where user_id = ${userId}`.execute(built.db)).rows[0]!.n
    return n + (await sql<{ n: number }>`select count(*)::int as n from outbox where payload::text like ${`%${userId}%`}`.execute(built.db)).rows[0]!.n
  }
  t.equal(await mentions(leaving), 7)
  await auth.bus.publish(UserDeletedV1, { userId: leaving, deletedAt: new Date().toISOString() })
  t.ok(await eventually(async () => await mentions(leaving) === 0), 'every row of the user is deleted')
  t.equal(await mentions(staying), 7, 'the other user keeps theirs')
})
