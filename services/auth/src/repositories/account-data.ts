import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../db/database.js'

type Db = Kysely<Database> | Transaction<Database>

/**
 * Deletes a user and everything auth keeps about them: the connections (and their encrypted tokens)
 * go with the user row (on delete cascade), the leases named after the user's grants explicitly.
 */
export async function deleteUserRows (db: Db, userId: string): Promise<boolean> {
  await db.deleteFrom('leases').where('name', 'like', `grant:${userId}:%`).execute()
  const deleted = await db.deleteFrom('users').where('id', '=', userId).executeTakeFirst()
  return Number(deleted.numDeletedRows) > 0
}

/**
 * Deletes the outbox rows whose event names the user. Called once the user's deletion event came
 * back from the stream: it and every earlier row of the user were published by then (the relay
 * publishes in id order), so nothing that still had to go out is lost. A row the relay holds while
 * marking it sent is waited for (row lock), then deleted.
 */
export async function purgeOutboxOfUser (db: Db, userId: string): Promise<number> {
  const result = await db.deleteFrom('outbox').where(sql<string>`payload->>'userId'`, '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows)
}
