import type { Db } from '../db/database.js'

/** Deletes the messages a user sent while logged in (the only rows that name a user). Idempotent. */
export async function deleteUserRows (db: Db, userId: string): Promise<number> {
  const result = await db.deleteFrom('submissions').where('user_id', '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows)
}
