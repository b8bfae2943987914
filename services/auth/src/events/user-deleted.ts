import { AUTH_STREAM, UserDeletedV1, type EventPayload } from '@pulse/contracts'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { deleteUserRows, purgeOutboxOfUser } from '../repositories/account-data.js'
import { endUserSessions } from '../user-sessions.js'

/**
 * Auth's own consumer of the account deletion: once the event is on the stream, the outbox rows that
 * named the user (the deletion event itself included) are deleted, and the user's sessions are ended
 * again (the route ends them at once; this covers a Redis failure at that moment). Idempotent.
 */
export function consumeUserDeletions (app: FastifyInstance, { redisPrefix }: { redisPrefix: string }): void {
  const db = app.db as Kysely<Database>
  app.addHook('onReady', async () => {
    await app.nats.consume([UserDeletedV1], { durable: 'auth-user-deleted', stream: AUTH_STREAM }, async (payload) => {
      const { userId } = payload as EventPayload<typeof UserDeletedV1>
      await db.transaction().execute(async (trx) => {
        await deleteUserRows(trx, userId)
        await purgeOutboxOfUser(trx, userId)
      })
      await endUserSessions(app.redis, redisPrefix, userId)
      app.log.info({ userId }, 'deleted account: outbox rows and sessions removed')
    })
  })
}
