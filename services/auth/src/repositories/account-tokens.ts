import { createHash, randomBytes } from 'node:crypto'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { AccountTokensTable, Database } from '../db/database.js'

type Db = Kysely<Database> | Transaction<Database>
export type TokenPurpose = AccountTokensTable['purpose']

/**
 * A link's secret is 32 random bytes: far beyond guessing, so one SHA-256 is a sufficient hash (a
 * slow hash such as argon2 is for low-entropy secrets like passwords). Only the hash is stored, so
 * the table leaks no usable link.
 */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex')

export const newToken = (): string => randomBytes(32).toString('base64url')

/** Stores a new link for the user, ending the user's earlier unused ones of that purpose; answers the secret. */
export async function issueToken (db: Db, user: { userId: string, purpose: TokenPurpose, ttlSeconds: number, email?: string, token?: string }): Promise<string> {
  const token = user.token ?? newToken()
  await db.updateTable('account_tokens').set({ used_at: sql<Date>`now()` })
    .where('user_id', '=', user.userId).where('purpose', '=', user.purpose).where('used_at', 'is', null).execute()
  await db.insertInto('account_tokens').values({
    user_id: user.userId,
    purpose: user.purpose,
    token_hash: hashToken(token),
    email: user.email ?? null,
    expires_at: sql<Date>`now() + make_interval(secs => ${user.ttlSeconds})`
  }).execute()
  return token
}

/**
 * Uses a link once: one statement marks it used only if it is unused and unexpired, so two
 * concurrent uses cannot both succeed. Answers the token's row, or undefined for a link that is
 * unknown (forged), expired or used.
 */
export async function consumeToken (db: Db, purpose: TokenPurpose, token: string) {
  return await db.updateTable('account_tokens').set({ used_at: sql<Date>`now()` })
    .where('token_hash', '=', hashToken(token)).where('purpose', '=', purpose)
    .where('used_at', 'is', null).where('expires_at', '>', sql<Date>`now()`)
    .returning(['user_id', 'email'])
    .executeTakeFirst()
}
