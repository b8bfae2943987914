import type { MoodEntryResponse } from '@pulse/contracts'
import type { Db } from './entries.js'

export interface StoredResponse {
  requestHash: string
  statusCode: 201
  response: MoodEntryResponse
}

/**
 * Claims a key for this user. The primary key (user_id, key) makes a concurrent claim of the same
 * key wait until this transaction ends: it then finds the key taken (and reads the stored answer),
 * or, if this transaction rolled back, claims it itself. So exactly one request does the work.
 */
export async function claimIdempotencyKey (db: Db, userId: string, key: string, requestHash: string): Promise<boolean> {
  const claimed = await db.insertInto('idempotency_keys')
    .values({ user_id: userId, key, request_hash: requestHash, status_code: null, response: null })
    .onConflict((oc) => oc.columns(['user_id', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst()
  return claimed !== undefined
}

export async function findIdempotentResponse (db: Db, userId: string, key: string): Promise<StoredResponse | undefined> {
  const row = await db.selectFrom('idempotency_keys')
    .select(['request_hash', 'status_code', 'response'])
    .where('user_id', '=', userId)
    .where('key', '=', key)
    .executeTakeFirst()
  if (row === undefined || row.status_code === null) return undefined
  return { requestHash: row.request_hash, statusCode: row.status_code, response: row.response }
}

export async function storeIdempotentResponse (db: Db, userId: string, key: string, statusCode: 201, response: MoodEntryResponse): Promise<void> {
  await db.updateTable('idempotency_keys')
    .set({ status_code: statusCode, response: JSON.stringify(response) })
    .where('user_id', '=', userId)
    .where('key', '=', key)
    .execute()
}
