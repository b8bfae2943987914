import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../db/database.js'
import type { UserRow } from './users.js'

type Db = Kysely<Database> | Transaction<Database>

/** A new, unverified address for the user (the old one is forgotten). */
export async function setUnverifiedEmail (db: Db, userId: string, email: string): Promise<void> {
  await db.updateTable('users').set({ email, email_verified_at: null, updated_at: new Date() }).where('id', '=', userId).execute()
}

/**
 * Marks the address verified if it is still the user's address. Answers false when the user has
 * another address by now; throws the database's unique violation when another account verified it first.
 */
export async function markEmailVerified (db: Db, userId: string, email: string): Promise<boolean> {
  const result = await db.updateTable('users').set({ email_verified_at: sql<Date>`now()`, updated_at: new Date() })
    .where('id', '=', userId).where('email', '=', email).executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** The account whose VERIFIED address this is (any case). */
export async function findUserByVerifiedEmail (db: Db, email: string): Promise<UserRow | undefined> {
  return await db.selectFrom('users').selectAll()
    .where(sql`lower(email)`, '=', email.toLowerCase()).where('email_verified_at', 'is not', null)
    .executeTakeFirst()
}
