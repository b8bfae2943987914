import type { Connection } from '@pulse/contracts'
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { ConnectionsTable, Database, ProviderName } from '../db/database.js'
import type { EncryptedTokens } from '../tokens/token-store.js'

type Db = Kysely<Database> | Transaction<Database>
export type ConnectionRow = Selectable<ConnectionsTable>

export async function findConnection (db: Db, userId: string, provider: ProviderName): Promise<ConnectionRow | undefined> {
  return await db.selectFrom('connections').selectAll().where('user_id', '=', userId).where('provider', '=', provider).executeTakeFirst()
}

export async function findConnectionByAccount (db: Db, provider: ProviderName, providerUserId: string): Promise<ConnectionRow | undefined> {
  return await db.selectFrom('connections').selectAll().where('provider', '=', provider).where('provider_user_id', '=', providerUserId).executeTakeFirst()
}

export async function listConnectionsOfUser (db: Db, userId: string): Promise<ConnectionRow[]> {
  return await db.selectFrom('connections').selectAll().where('user_id', '=', userId).orderBy('provider').execute()
}

/** Inserts a connection; undefined when the account or the user's slot for the provider is taken. */
export async function insertConnection (db: Db, row: { userId: string, provider: ProviderName, providerUserId: string, providerLogin: string } & EncryptedTokens): Promise<ConnectionRow | undefined> {
  const { userId, provider, providerUserId, providerLogin, ...tokens } = row
  return await db.insertInto('connections')
    .values({ user_id: userId, provider, provider_user_id: providerUserId, provider_login: providerLogin, status: 'active', ...tokens })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst()
}

/** New tokens after a consent or a refresh; the connection is active again. */
export async function updateConnectionTokens (db: Db, id: string, tokens: EncryptedTokens, providerLogin?: string): Promise<ConnectionRow | undefined> {
  return await db.updateTable('connections')
    .set({ ...tokens, status: 'active', updated_at: new Date(), ...(providerLogin !== undefined ? { provider_login: providerLogin } : {}) })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
}

/** The grant was taken back at the provider: invalid, and its tokens deleted. */
export async function revokeConnectionTokens (db: Db, id: string): Promise<void> {
  await db.updateTable('connections')
    .set({ status: 'invalid', access_token: null, refresh_token: null, token_secret: null, expires_at: null, updated_at: new Date() })
    .where('id', '=', id).execute()
}

export async function markConnectionInvalid (db: Db, id: string): Promise<void> {
  await db.updateTable('connections').set({ status: 'invalid', updated_at: new Date() }).where('id', '=', id).execute()
}

export async function deleteConnection (db: Db, id: string): Promise<void> {
  await db.deleteFrom('connections').where('id', '=', id).execute()
}

/** Active connections of a provider in id order, a page at a time (the validation round). */
export async function pageActiveConnections (db: Db, provider: ProviderName, afterId: string | undefined, limit: number): Promise<ConnectionRow[]> {
  let query = db.selectFrom('connections').selectAll().where('provider', '=', provider).where('status', '=', 'active')
  if (afterId !== undefined) query = query.where('id', '>', afterId)
  return await query.orderBy('id').limit(limit).execute()
}

/**
 * Serialises work on one user's grant at one provider across every auth replica: a transaction-
 * scoped advisory lock, released at commit or rollback. hashtext collisions only serialise two
 * unrelated grants a little more.
 */
export async function lockGrant (trx: Transaction<Database>, userId: string, provider: ProviderName): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('pulse-auth-grant'), hashtext(${`${userId}:${provider}`}))`.execute(trx)
}

/** The public view of a connection (never a token). */
export function toConnection (row: ConnectionRow): Connection {
  return {
    provider: row.provider,
    providerUserId: row.provider_user_id,
    providerLogin: row.provider_login,
    status: row.status,
    connectedAt: row.connected_at.toISOString()
  }
}
