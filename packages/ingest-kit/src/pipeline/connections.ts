import type { ConnectionInvalidatedV1, ConnectionLinkedV1, ConnectionUnlinkedV1, EventPayload, UserDeletedV1 } from '@pulse/contracts'
import { enqueueEvent } from '@pulse/service-kit'
import {
  isUserDeleted, lockTrackedAccount, markInvalidated, purgeOutboxOfUser, recordUnlink, recordUserDeleted, unlinkedSince, upsertTrackedAccount
} from '../repositories.js'
import type { PipelineContext } from './types.js'

/**
 * The consumer of auth's connection events: tracks an account, deletes its data on unlink, marks it
 * invalid, and deletes everything of a user who deleted their account.
 */
export function connectionHandlers<R> ({ app, db, log, options, deleteUserData }: PipelineContext<R>) {
  const onLinked = async (event: EventPayload<typeof ConnectionLinkedV1>) => {
    const linkedAt = new Date(event.linkedAt)
    const outcome = await db.transaction().execute(async (trx) => {
      if (await unlinkedSince(trx, event.userId, linkedAt) || await isUserDeleted(trx, event.userId)) return 'stale'
      const existing = await lockTrackedAccount(trx, event.userId)
      if (existing !== undefined && existing.linked_at.getTime() > linkedAt.getTime()) return 'stale'
      // Another account of the provider replaces the old one: its history is not this account's.
      if (existing !== undefined && existing.provider_user_id !== event.providerUserId) await deleteUserData(trx, event.userId)
      await upsertTrackedAccount(trx, { userId: event.userId, providerUserId: event.providerUserId, providerLogin: event.providerLogin, linkedAt })
      await enqueueEvent(trx, options.contracts.requested, { userId: event.userId, reason: 'linked', requestedAt: linkedAt.toISOString() })
      return 'tracked'
    })
    if (outcome === 'tracked') app.outbox.wake()
    log.info({ userId: event.userId, outcome }, 'connection linked')
  }

  const onUnlinked = async (event: EventPayload<typeof ConnectionUnlinkedV1>) => {
    const unlinkedAt = new Date(event.unlinkedAt)
    const outcome = await db.transaction().execute(async (trx) => {
      // Recorded either way: a link event older than this unlink, arriving later still, stays stale.
      await recordUnlink(trx, event.userId, unlinkedAt)
      // An unlink of before the current link (the user connected again, and the unlink arrived
      // late) is about the old connection: the new one's tracking and data stay.
      const existing = await lockTrackedAccount(trx, event.userId)
      if (existing !== undefined && existing.linked_at.getTime() > unlinkedAt.getTime()) return 'stale'
      await deleteUserData(trx, event.userId)
      return 'deleted'
    })
    log.info({ userId: event.userId, outcome }, outcome === 'deleted' ? 'connection unlinked: the user\'s data is deleted' : 'stale unlink ignored: the user linked again since')
  }

  const onInvalidated = async (event: EventPayload<typeof ConnectionInvalidatedV1>) => {
    await markInvalidated(db, event.userId, event.reason, new Date(event.invalidatedAt))
    log.info({ userId: event.userId, reason: event.reason }, 'connection invalidated')
  }

  /**
   * The user deleted their account: every row of theirs goes (snapshots, lists, bookkeeping, the
   * outbox rows that named them), and only a hash of the id stays, so a late link event cannot
   * track them again. Idempotent: a second delivery finds nothing to delete.
   */
  const onUserDeleted = async (event: EventPayload<typeof UserDeletedV1>) => {
    await db.transaction().execute(async (trx) => {
      // Locked: a refresh storing at this moment waits, then finds the account gone.
      await lockTrackedAccount(trx, event.userId)
      await deleteUserData(trx, event.userId)
      await trx.deleteFrom('unlinks').where('user_id', '=', event.userId).execute()
      await purgeOutboxOfUser(trx, event.userId)
      await recordUserDeleted(trx, event.userId)
    })
    log.info({ userId: event.userId }, 'account deleted: the user\'s data is deleted')
  }

  return { onLinked, onUnlinked, onInvalidated, onUserDeleted }
}
