import { sql, type Kysely, type Transaction } from 'kysely'
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

/** One page of a user's entries for their data export, by id; `limit` + 1 read to know whether more follow. */
export async function pageUserEntries (db: Kysely<Database>, userId: string, cursor: string | undefined, limit: number) {
  let query = db.selectFrom('entries')
    .select(['id', 'score', 'label', 'note', 'logged_at as loggedAt', sql<string>`day::text`.as('day'), 'timezone', 'created_at as createdAt', 'updated_at as updatedAt'])
    .where('user_id', '=', userId).orderBy('id').limit(limit + 1)
  if (cursor !== undefined) query = query.where('id', '>', cursor)
  const rows = await query.execute()
  const records = rows.slice(0, limit)
  return { records, nextCursor: rows.length > limit ? records.at(-1)!.id : null }
}
