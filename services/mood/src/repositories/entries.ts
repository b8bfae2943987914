import { sql, type Kysely, type Transaction, type Updateable } from 'kysely'
import type { Database, EntriesTable } from '../db/database.js'
import type { Runner, Statement } from '../db/statements.js'

export type Db = Kysely<Database> | Transaction<Database>

/** An entry as the API answers it, but for its streak. */
export interface EntryRow {
  id: string
  score: number
  label: string | null
  note: string | null
  /** ISO 8601 in UTC to the millisecond, as `Date.prototype.toISOString` writes it. */
  loggedAt: string
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

/**
 * `logged_at` as the API writes it, made by Postgres: Node then neither parses a timestamp into a
 * Date nor formats it back, per entry. Loggable instants lie between 1900 and 9999, where this is
 * exactly what `toISOString` writes (milliseconds truncated, like pg's parser and Date do).
 */
export const LOGGED_AT_ISO = `to_char(logged_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

/** The columns of an EntryRow, in SQL. */
export const ENTRY_COLUMNS = `id, score, label, note, ${LOGGED_AT_ISO} as "loggedAt", day::text as day`

const entryColumns = ['id', 'score', 'label', 'note', sql.raw<string>(LOGGED_AT_ISO).as('loggedAt'), sql<string>`day::text`.as('day')] as const

const insertEntryStatement: Statement = {
  name: 'mood_insert_entry',
  text: `insert into entries (user_id, score, label, note, logged_at, day, timezone)
    values ($1, $2, $3, $4, $5, $6, $7)
    returning ${ENTRY_COLUMNS}`
}

export async function insertEntry (run: Runner, entry: NewEntry): Promise<EntryRow> {
  const [row] = await run.rows<EntryRow>(insertEntryStatement,
    [entry.userId, entry.score, entry.label, entry.note, entry.loggedAt, entry.day, entry.timezone])
  if (row === undefined) throw new Error('insert into entries returned no row')
  return row
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
