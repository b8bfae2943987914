import { AUTH_STREAM, UserDeletedV1, type EventPayload } from '@pulse/contracts'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { deleteUserRows } from '../repositories/account-data.js'

/**
 * A user deleted their account: the messages they sent while logged in are deleted, from a durable
 * consumer, so a replica that was down at that moment deletes them when it starts again. Contact's
 * own events (contact.submitted.v1) carry no user id, so its outbox holds nothing of the user.
 */
export function consumeUserDeletions (app: FastifyInstance): void {
  const db = app.db as Kysely<Database>
  app.addHook('onReady', async () => {
    await app.nats.consume([UserDeletedV1], { durable: 'contact-user-deleted', stream: AUTH_STREAM }, async (payload) => {
      const { userId } = payload as EventPayload<typeof UserDeletedV1>
      const deleted = await deleteUserRows(db, userId)
      app.log.info({ userId, deleted }, 'account deleted: the user\'s messages are deleted')
    })
  })
}
