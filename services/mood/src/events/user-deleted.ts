import { AUTH_STREAM, UserDeletedV1, type EventPayload } from '@pulse/contracts'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { deleteUserRows } from '../repositories/account-data.js'

/**
 * A user deleted their account: their entries, streaks and idempotency keys are deleted, from a
 * durable consumer, so a replica that was down at that moment deletes them when it starts again.
 */
export function consumeUserDeletions (app: FastifyInstance, db: Kysely<Database>): void {
  app.addHook('onReady', async () => {
    await app.nats.consume([UserDeletedV1], { durable: 'mood-user-deleted', stream: AUTH_STREAM }, async (payload) => {
      const { userId } = payload as EventPayload<typeof UserDeletedV1>
      await db.transaction().execute(async (trx) => { await deleteUserRows(trx, userId) })
      app.log.info({ userId }, 'account deleted: the user\'s mood entries are deleted')
    })
  })
}
