import type { ContactStatus } from '@pulse/contracts'
import { sql } from 'kysely'
import type { Db, NewSubmission, SubmissionRow } from '../db/database.js'

/**
 * Inserts a message. With an idempotency key that is already taken it inserts nothing and returns
 * undefined: the unique constraint makes concurrent retries wait for the first insert and skip.
 */
export async function insertSubmission (db: Db, submission: NewSubmission): Promise<SubmissionRow | undefined> {
  return await db.insertInto('submissions').values(submission)
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returningAll()
    .executeTakeFirst()
}

export async function findSubmissionByIdempotencyKey (db: Db, key: string): Promise<SubmissionRow | undefined> {
  return await db.selectFrom('submissions').selectAll().where('idempotency_key', '=', key).executeTakeFirst()
}

/** A position in the newest-first list: the last row of a page. */
export interface ListPosition {
  /** received_at at full (microsecond) precision, as Postgres prints it in UTC. */
  receivedAt: string
  id: string
}

export interface ListOptions {
  status?: ContactStatus
  after?: ListPosition
  limit: number
}

/** Newest first (ties broken by id); one row more than asked, so the caller knows if a page follows. */
export async function listSubmissions (db: Db, { status, after, limit }: ListOptions): Promise<(SubmissionRow & { position: string })[]> {
  let query = db.selectFrom('submissions').selectAll()
    // JavaScript dates keep milliseconds only; the cursor needs Postgres' microseconds to be exact.
    .select(sql<string>`to_char(received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('position'))
    .orderBy('received_at', 'desc').orderBy('id', 'desc')
    .limit(limit + 1)
  if (status !== undefined) query = query.where('status', '=', status)
  if (after !== undefined) {
    query = query.where(sql<boolean>`(received_at, id) < (${after.receivedAt}::timestamptz, ${after.id}::uuid)`)
  }
  return await query.execute()
}

/** Sets a message's status; updated_at moves only when the status changes. Undefined: no such message. */
export async function updateSubmissionStatus (db: Db, id: string, status: ContactStatus): Promise<SubmissionRow | undefined> {
  return await db.updateTable('submissions')
    .set({ status, updated_at: sql<Date>`case when status = ${status} then updated_at else now() end` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
}
