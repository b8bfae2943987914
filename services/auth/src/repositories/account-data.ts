import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { Database, ExportsTable } from '../db/database.js'

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

// ------------------------------------------------------------------------------------------------
// Data exports

export type ExportRow = Selectable<ExportsTable>
type ExportView = Omit<ExportRow, 'archive'>
const VIEW = ['id', 'user_id', 'status', 'requested_at', 'ready_at', 'expires_at'] as const

/** The user's export still being prepared, if any (one at a time). */
export async function findPendingExport (db: Db, userId: string): Promise<ExportView | undefined> {
  return await db.selectFrom('exports').select(VIEW).where('user_id', '=', userId).where('status', '=', 'pending').executeTakeFirst()
}

export async function insertExport (db: Db, userId: string): Promise<ExportView> {
  return await db.insertInto('exports').values({ user_id: userId }).returning(VIEW).executeTakeFirstOrThrow()
}

/** The user's exports that have not expired, newest first. */
export async function listExports (db: Db, userId: string): Promise<ExportView[]> {
  return await db.selectFrom('exports').select(VIEW).where('user_id', '=', userId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .orderBy('requested_at', 'desc').execute()
}

/** One export of the user with its archive, unless expired: another user's is not found either. */
export async function findExport (db: Db, userId: string, id: string): Promise<ExportRow | undefined> {
  return await db.selectFrom('exports').selectAll().where('id', '=', id).where('user_id', '=', userId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .executeTakeFirst()
}

/** A pending export (a request being handled), without its archive. */
export async function findExportById (db: Db, id: string): Promise<ExportView | undefined> {
  return await db.selectFrom('exports').select(VIEW).where('id', '=', id).executeTakeFirst()
}

/** Stores the archive of a pending export; undefined when it is no longer pending (a second delivery). */
export async function markExportReady (db: Db, id: string, archive: Uint8Array, ttlSeconds: number): Promise<ExportView | undefined> {
  return await db.updateTable('exports')
    .set({ status: 'ready', archive: Buffer.from(archive), ready_at: sql<Date>`now()`, expires_at: sql<Date>`now() + make_interval(secs => ${ttlSeconds})` })
    .where('id', '=', id).where('status', '=', 'pending')
    .returning(VIEW).executeTakeFirst()
}

/** Deletes expired archives; answers how many. */
export async function deleteExpiredExports (db: Db): Promise<number> {
  const result = await db.deleteFrom('exports').where('expires_at', '<=', sql<Date>`now()`).executeTakeFirst()
  return Number(result.numDeletedRows)
}
