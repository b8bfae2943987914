import { ConnectionInvalidatedV1, TWITCH_EVENTSUB_STREAM, TwitchAuthorizationRevokedV1, type EventPayload } from '@pulse/contracts'
import { enqueueEvent } from '@pulse/service-kit'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { findConnection, lockGrant, revokeConnectionTokens } from '../repositories/connections.js'

/** Shared by every auth replica. */
export const TWITCH_REVOCATIONS_DURABLE = 'auth-twitch-revocations'

/**
 * Twitch told twitch-ingest (EventSub user.authorization.revoke) that the user took back Pulse's
 * authorization: the connection is marked invalid and its tokens are deleted, once, whichever
 * replica takes the event; ConnectionInvalidatedV1 tells the rest. A connection renewed after the
 * revocation (the user connected again) is the new grant's and stays.
 */
export function consumeTwitchRevocations (app: FastifyInstance, db: Kysely<Database>): void {
  app.addHook('onReady', async () => {
    await app.nats.ensureStream(TWITCH_EVENTSUB_STREAM)
    await app.nats.consume([TwitchAuthorizationRevokedV1], { durable: TWITCH_REVOCATIONS_DURABLE, stream: TWITCH_EVENTSUB_STREAM }, async (payload) => {
      const event = payload as EventPayload<typeof TwitchAuthorizationRevokedV1>
      const revokedAt = new Date(event.revokedAt)
      const outcome = await db.transaction().execute(async (trx) => {
        await lockGrant(trx, event.userId, 'twitch')
        const row = await findConnection(trx, event.userId, 'twitch')
        if (row === undefined || row.provider_user_id !== event.providerUserId) return 'unknown'
        if (row.updated_at.getTime() > revokedAt.getTime() && row.status === 'active') return 'renewed'
        if (row.access_token === null) return 'done'
        await revokeConnectionTokens(trx, row.id)
        if (row.status === 'active') {
          await enqueueEvent(trx, ConnectionInvalidatedV1, { userId: row.user_id, provider: 'twitch', reason: 'authorization_revoked', invalidatedAt: revokedAt.toISOString() })
        }
        return 'revoked'
      })
      if (outcome === 'revoked') app.outbox.wake()
      app.log.info({ userId: event.userId, outcome }, 'twitch authorization revoked at twitch')
    })
  })
}
