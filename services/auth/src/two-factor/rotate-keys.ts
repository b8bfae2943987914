import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import type { TokenCipher } from '../tokens/token-cipher.js'
import type { RotationResult } from '../tokens/rotate-keys.js'

const seedContext = (userId: string): string => `two-factor:${userId}`

/**
 * Re-encrypts every TOTP seed not yet under the current key, as rotate-token-keys does for provider
 * tokens (they share TOKEN_ENCRYPTION_KEYS). Each row is rewritten only if it still holds the
 * ciphertext that was read, so a seed replaced meanwhile (a new enrolment) is left alone.
 */
export async function rotateTwoFactorKeys (db: Kysely<Database>, cipher: TokenCipher): Promise<RotationResult> {
  const result: RotationResult = { reencrypted: 0, failed: [] }
  const rows = await db.selectFrom('two_factor').select(['user_id', 'secret', 'key_id']).where('key_id', '<>', cipher.currentKeyId).execute()
  for (const row of rows) {
    try {
      const secret = cipher.encrypt(cipher.decrypt(row.secret, row.key_id, seedContext(row.user_id)), seedContext(row.user_id))
      await db.updateTable('two_factor').set({ secret, key_id: cipher.currentKeyId })
        .where('user_id', '=', row.user_id).where('secret', '=', row.secret).execute()
      result.reencrypted++
    } catch (error) {
      result.failed.push({ id: row.user_id, keyId: row.key_id, reason: (error as Error).message })
    }
  }
  return result
}
