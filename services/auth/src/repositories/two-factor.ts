import { createHash } from 'node:crypto'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../db/database.js'

type Db = Kysely<Database> | Transaction<Database>

export async function findTwoFactor (db: Db, userId: string) {
  return await db.selectFrom('two_factor').selectAll().where('user_id', '=', userId).executeTakeFirst()
}

export async function isTwoFactorEnabled (db: Db, userId: string): Promise<boolean> {
  return (await db.selectFrom('two_factor').select('user_id').where('user_id', '=', userId).where('enabled_at', 'is not', null).executeTakeFirst()) !== undefined
}

/** A new seed waiting for its first code (replaces an unfinished enrolment). */
export async function savePendingTwoFactor (db: Db, userId: string, secret: { value: string, keyId: string }): Promise<void> {
  await db.insertInto('two_factor').values({ user_id: userId, secret: secret.value, key_id: secret.keyId, enabled_at: null, last_time_step: null })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ secret: secret.value, key_id: secret.keyId, enabled_at: null, last_time_step: null }))
    .execute()
}

/**
 * Records that a code of `timeStep` was accepted, only if no code of that step or a later one was
 * accepted before: one statement, so a code sent twice at once is accepted once. Answers whether it was.
 */
export async function claimTimeStep (db: Db, userId: string, timeStep: number): Promise<boolean> {
  const result = await db.updateTable('two_factor').set({ last_time_step: timeStep })
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('last_time_step', 'is', null), eb('last_time_step', '<', sql<string>`${timeStep}`)]))
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function enableTwoFactor (db: Db, userId: string): Promise<void> {
  await db.updateTable('two_factor').set({ enabled_at: new Date() }).where('user_id', '=', userId).execute()
}

export async function deleteTwoFactor (db: Db, userId: string): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
  await db.deleteFrom('two_factor').where('user_id', '=', userId).execute()
}

/**
 * Recovery codes have 80 random bits (16 base32 characters): beyond offline guessing, so SHA-256
 * suffices (see account-tokens.ts). Dashes and case do not matter.
 */
export const hashRecoveryCode = (code: string): string => createHash('sha256').update(code.replace(/[\s-]/g, '').toUpperCase(), 'utf8').digest('hex')

export async function replaceRecoveryCodes (db: Db, userId: string, codes: string[]): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
  await db.insertInto('recovery_codes').values(codes.map((code) => ({ user_id: userId, code_hash: hashRecoveryCode(code) }))).execute()
}

/** Uses a recovery code once (one statement: a code sent twice at once works once). */
export async function consumeRecoveryCode (db: Db, userId: string, code: string): Promise<boolean> {
  const result = await db.updateTable('recovery_codes').set({ used_at: sql<Date>`now()` })
    .where('user_id', '=', userId).where('code_hash', '=', hashRecoveryCode(code)).where('used_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) >= 1
}

export async function countRecoveryCodesLeft (db: Db, userId: string): Promise<number> {
  const row = await db.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirstOrThrow()
  return Number(row.n)
}
