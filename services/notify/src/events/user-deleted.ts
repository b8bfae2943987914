import { AUTH_STREAM, UserDeletedV1, type EventPayload } from '@pulse/contracts'
import type { FastifyInstance } from 'fastify'
import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/database.js'

/**
 * A user deleted their account: their settings, webhook endpoints and deliveries go (from a durable
 * consumer, so a replica that was down does it when it starts), outbox rows naming them included.
 */
export async function consumeUserDeletions (app: FastifyInstance): Promise<void> {
  const db = app.db as Kysely<Database>
  await app.nats.consume([UserDeletedV1], { durable: 'notify-user-deleted', stream: AUTH_STREAM }, async (payload) => {
    const { userId } = payload as EventPayload<typeof UserDeletedV1>
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('deliveries').where('user_id', '=', userId).execute()
      await trx.deleteFrom('webhook_endpoints').where('user_id', '=', userId).execute()
      await trx.deleteFrom('settings').where('user_id', '=', userId).execute()
      await trx.deleteFrom('audience_state').where('user_id', '=', userId).execute()
      await trx.deleteFrom('followed_streams').where('user_id', '=', userId).execute()
      await trx.deleteFrom('mood_reminders').where('user_id', '=', userId).execute()
      await trx.deleteFrom('reminders_sent').where('user_id', '=', userId).execute()
      // Notifications for their dashboards, sent or not: a deleted user has none to see.
      await trx.deleteFrom('outbox').where(sql<string>`payload->>'userId'`, '=', userId).execute()
    })
    app.log.info({ userId }, 'account deleted: the user\'s notification settings, endpoints and deliveries are deleted')
  })
}
