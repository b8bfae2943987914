import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { lockGrant } from '../repositories/connections.js'
import type { TokenStore } from './token-store.js'

export interface RotationResult {
  /** Connections now encrypted under the current key. */
  reencrypted: number
  /** Connections whose tokens could not be decrypted (their key is not configured, or they were altered). */
  failed: { id: string, keyId: string, reason: string }[]
}

/**
 * Re-encrypts the tokens of every connection not yet under the current key (the first of
 * TOKEN_ENCRYPTION_KEYS). Each row is rewritten in its own transaction under the grant's lock, so
 * a refresh running at the same moment cannot have its new refresh token overwritten by the old
 * one. Safe to run while the service runs, and again after an interruption.
 */
export async function rotateTokenKeys (db: Kysely<Database>, store: TokenStore, batchSize = 100): Promise<RotationResult> {
  const result: RotationResult = { reencrypted: 0, failed: [] }
  const current = store.currentKeyId
  let after: string | undefined
  for (;;) {
    let query = db.selectFrom('connections').select(['id', 'user_id', 'provider']).where('key_id', '<>', current)
    if (after !== undefined) query = query.where('id', '>', after)
    const batch = await query.orderBy('id').limit(batchSize).execute()
    if (batch.length === 0) return result
    after = batch[batch.length - 1]!.id
    for (const { id, user_id: userId, provider } of batch) {
      await db.transaction().execute(async (trx) => {
        await lockGrant(trx, userId, provider)
        const row = await trx.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst()
        if (row === undefined || row.key_id === current) return
        try {
          const sealed = store.seal(row.provider, row.provider_user_id, store.open(row))
          await trx.updateTable('connections')
            .set({ access_token: sealed.access_token, refresh_token: sealed.refresh_token, token_secret: sealed.token_secret, key_id: sealed.key_id })
            .where('id', '=', id).execute()
          result.reencrypted++
        } catch (error) {
          result.failed.push({ id, keyId: row.key_id, reason: (error as Error).message })
        }
      })
    }
  }
}
