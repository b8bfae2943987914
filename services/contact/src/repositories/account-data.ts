import type { Db } from '../db/database.js'

/** Deletes the messages a user sent while logged in (the only rows that name a user). Idempotent. */
export async function deleteUserRows (db: Db, userId: string): Promise<number> {
  const result = await db.deleteFrom('submissions').where('user_id', '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows)
}

/** One page of the messages a user sent logged in, for their data export, by id. */
export async function pageUserSubmissions (db: Db, userId: string, cursor: string | undefined, limit: number) {
  let query = db.selectFrom('submissions')
    .select(['id', 'name', 'email', 'subject', 'message', 'status', 'received_at as receivedAt'])
    .where('user_id', '=', userId).orderBy('id').limit(limit + 1)
  if (cursor !== undefined) query = query.where('id', '>', cursor)
  const rows = await query.execute()
  const records = rows.slice(0, limit)
  return { records, nextCursor: rows.length > limit ? records.at(-1)!.id : null }
}
