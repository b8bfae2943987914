import { sql, type Kysely, type Transaction, type Updateable } from 'kysely'
import type { Database, EntriesTable } from '../db/database.js'

export type Db = Kysely<Database> | Transaction<Database>

export interface EntryRow {
  id: string
  score: number
  label: string | null
  note: string | null
  logged_at: Date
  /** YYYY-MM-DD */
  day: string
}

export interface NewEntry {
  userId: string
  score: number
  label: string | null
  note: string | null
  loggedAt: Date
  day: string
  timezone: string
}

/** Where the previous page ended: the last entry's (logged_at, id). */
export interface EntryPosition {
  loggedAt: Date
  id: string
}

const entryColumns = ['id', 'score', 'label', 'note', 'logged_at', sql<string>`day::text`.as('day')] as const

export async function insertEntry (db: Db, entry: NewEntry): Promise<EntryRow> {
  return db.insertInto('entries')
    .values({
      user_id: entry.userId,
      score: entry.score,
      label: entry.label,
      note: entry.note,
      logged_at: entry.loggedAt,
      day: entry.day,
      timezone: entry.timezone
    })
    .returning(entryColumns)
    .executeTakeFirstOrThrow()
}

export type EntryChanges = Pick<Updateable<EntriesTable>, 'score' | 'label' | 'note' | 'logged_at' | 'day' | 'timezone'>

/** Changes one of the user's entries; undefined when the user has no entry with this id. */
export async function updateEntry (db: Db, userId: string, id: string, changes: EntryChanges): Promise<EntryRow | undefined> {
  return db.updateTable('entries')
    .set({ ...changes, updated_at: sql`now()` })
    .where('user_id', '=', userId)
    .where('id', '=', id)
    .returning(entryColumns)
    .executeTakeFirst()
}

/** True when the user had an entry with this id. */
export async function deleteEntry (db: Db, userId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('entries').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst()
  return result.numDeletedRows > 0n
}

export interface ListEntriesOptions {
  /** First and last day included (YYYY-MM-DD). */
  from?: string
  to?: string
  /** Entries strictly after this position in the newest-first order. */
  after?: EntryPosition
  limit: number
}

/** A page of the user's entries newest first (logged_at desc, id desc), served by the (user_id, logged_at desc, id desc) index. */
export function entriesPageQuery (db: Db, userId: string, { from, to, after, limit }: ListEntriesOptions) {
  let query = db.selectFrom('entries').select(entryColumns).where('user_id', '=', userId)
  if (from !== undefined) query = query.where('day', '>=', sql<Date>`${from}::date`)
  if (to !== undefined) query = query.where('day', '<=', sql<Date>`${to}::date`)
  if (after !== undefined) query = query.where(sql<boolean>`(logged_at, id) < (${after.loggedAt}, ${after.id}::uuid)`)
  return query.orderBy('logged_at', 'desc').orderBy('id', 'desc').limit(limit)
}
