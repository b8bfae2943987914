import type { Kysely, Transaction } from 'kysely'
import type { Database } from '../db/database.js'

/**
 * Deletes every row of a user: entries first (the streak triggers keep their runs meanwhile), then
 * the runs, the summary and the idempotency keys. Idempotent: a second call finds nothing.
 */
export async function deleteUserRows (db: Kysely<Database> | Transaction<Database>, userId: string): Promise<void> {
  await db.deleteFrom('entries').where('user_id', '=', userId).execute()
  await db.deleteFrom('streak_runs').where('user_id', '=', userId).execute()
  await db.deleteFrom('user_streaks').where('user_id', '=', userId).execute()
  await db.deleteFrom('idempotency_keys').where('user_id', '=', userId).execute()
}
