import { sql } from 'kysely'
import type { Db, EndpointRow } from '../db/database.js'

export async function listEndpoints (db: Db, userId: string): Promise<EndpointRow[]> {
  return await db.selectFrom('webhook_endpoints').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute()
}

/** The enabled endpoints of these users (the webhook channel's targets). */
export async function enabledEndpointsOf (db: Db, userIds: readonly string[]): Promise<EndpointRow[]> {
  if (userIds.length === 0) return []
  return await db.selectFrom('webhook_endpoints').selectAll().where('user_id', 'in', userIds).where('enabled', '=', true).execute()
}

export async function findEndpoint (db: Db, id: string): Promise<EndpointRow | undefined> {
  return await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function findOwnEndpoint (db: Db, userId: string, id: string): Promise<EndpointRow | undefined> {
  return await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst()
}

export async function countEndpoints (db: Db, userId: string): Promise<number> {
  const row = await db.selectFrom('webhook_endpoints').select(sql<number>`count(*)::int`.as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()
  return row.n
}

export async function insertEndpoint (db: Db, values: { userId: string, url: string, description: string | null, secret: string }): Promise<EndpointRow> {
  return await db.insertInto('webhook_endpoints')
    .values({ user_id: values.userId, url: values.url, description: values.description, secret: values.secret })
    .returningAll().executeTakeFirstOrThrow()
}

export async function updateEndpoint (db: Db, userId: string, id: string, changes: { url?: string, description?: string | null, enabled?: boolean }): Promise<EndpointRow | undefined> {
  return await db.updateTable('webhook_endpoints')
    .set({
      ...(changes.url !== undefined ? { url: changes.url } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      // Enabling starts afresh: a day of failures counts from the next failure.
      ...(changes.enabled === true ? { enabled: true, disabled_reason: null, failing_since: null } : {}),
      ...(changes.enabled === false ? { enabled: false, disabled_reason: 'disabled by its owner' } : {}),
      updated_at: sql<Date>`now()`
    })
    .where('id', '=', id).where('user_id', '=', userId)
    .returningAll().executeTakeFirst()
}

/** A new secret; the previous one still signs (a second signature) until `previousUntil`. */
export async function rotateEndpointSecret (db: Db, userId: string, id: string, secret: string, previousUntil: Date): Promise<EndpointRow | undefined> {
  return await db.updateTable('webhook_endpoints')
    .set((eb) => ({ previous_secret: eb.ref('secret'), previous_secret_until: previousUntil, secret, updated_at: sql<Date>`now()` }))
    .where('id', '=', id).where('user_id', '=', userId)
    .returningAll().executeTakeFirst()
}

export async function deleteEndpoint (db: Db, userId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('webhook_endpoints').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst()
  return result.numDeletedRows > 0n
}

/** Records the outcome of an attempt: a success clears the failure streak, a failure starts it. */
export async function markEndpointResult (db: Db, id: string, ok: boolean): Promise<EndpointRow | undefined> {
  return await db.updateTable('webhook_endpoints')
    .set(ok ? { failing_since: null } : { failing_since: sql<Date>`coalesce(failing_since, now())` })
    .where('id', '=', id)
    .returningAll().executeTakeFirst()
}

/**
 * Disables an endpoint that has failed since before `failingBefore`; answers it only to the one
 * caller (replica) that disabled it, so its owner is told once.
 */
export async function disableFailingEndpoint (db: Db, id: string, failingForMs: number): Promise<EndpointRow | undefined> {
  return await db.updateTable('webhook_endpoints')
    .set({ enabled: false, disabled_reason: 'every delivery failed for a day', updated_at: sql<Date>`now()` })
    .where('id', '=', id).where('enabled', '=', true)
    .where('failing_since', '<=', sql<Date>`now() - make_interval(secs => ${failingForMs / 1000})`)
    .returningAll().executeTakeFirst()
}
