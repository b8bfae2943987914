import { sql } from 'kysely'
import type { Db } from '../db/database.js'

/** Takes the named lease for `ttlMs` unless another holder's is still running; true when taken. */
export async function takeLease (db: Db, name: string, holder: string, ttlMs: number): Promise<boolean> {
  const row = await db.insertInto('eventsub_leases')
    .values({ name, holder, expires_at: sql<Date>`now() + ${ttlMs} * interval '1 millisecond'` })
    .onConflict((c) => c.column('name').doUpdateSet({ holder, expires_at: sql<Date>`now() + ${ttlMs} * interval '1 millisecond'` })
      .where(sql<boolean>`eventsub_leases.expires_at < now()`))
    .returning('holder')
    .executeTakeFirst()
  return row !== undefined
}

export async function releaseLease (db: Db, name: string, holder: string): Promise<void> {
  await db.deleteFrom('eventsub_leases').where('name', '=', name).where('holder', '=', holder).execute()
}

/** Channels that should have subscriptions: tracked and still valid. */
export async function activeBroadcasters (db: Db): Promise<Array<{ userId: string, broadcasterId: string }>> {
  const rows = await db.selectFrom('tracked_accounts').select(['user_id', 'provider_user_id']).where('invalidated_at', 'is', null).execute()
  return rows.map((r) => ({ userId: r.user_id, broadcasterId: r.provider_user_id }))
}

/**
 * The tracked account of a Twitch user, locked until the transaction ends: changes to one channel's
 * numbers are applied one after another, each on top of the last.
 */
export async function lockTrackedByBroadcaster (db: Db, broadcasterId: string) {
  return await db.selectFrom('tracked_accounts').selectAll().where('provider_user_id', '=', broadcasterId).forUpdate().executeTakeFirst()
}

/** True the first time a message id is applied (inside the transaction that applies it). */
export async function markApplied (db: Db, messageId: string): Promise<boolean> {
  const row = await db.insertInto('eventsub_applied').values({ message_id: messageId }).onConflict((c) => c.doNothing()).returning('message_id').executeTakeFirst()
  return row !== undefined
}

/** Forgets message ids older than `before` (the webhook refuses such messages as stale anyway). */
export async function deleteOldMessageIds (db: Db, before: Date): Promise<void> {
  await db.deleteFrom('eventsub_received').where('received_at', '<', before).execute()
  await db.deleteFrom('eventsub_applied').where('applied_at', '<', before).execute()
}
