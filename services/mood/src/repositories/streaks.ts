import { sql, type RawBuilder } from 'kysely'
import type { MoodStreak } from '@pulse/contracts'
import { entriesPageQuery, type Db, type EntryRow, type ListEntriesOptions } from './entries.js'

/*
 * Streaks are read from the user's runs of consecutive days (`streak_runs`, kept by triggers on
 * `entries` in the same transaction as every write) and their longest run (`user_streaks`): index
 * lookups, never a pass over the user's history.
 *
 * Runs never overlap nor touch, so the run containing a day, if any, is the one with the greatest
 * `first_day <= day`: a backward scan of the primary key `(user_id, first_day)` stopped after one
 * row, whose `last_day` then says whether it contains the day (the check is made on that one row,
 * never in the scan's filter, which would walk on through every earlier run). A day's streak is
 * `day - first_day + 1`.
 *
 * `current` is the run that contains `today`, counted up to today; when nothing is logged today,
 * the run that contains yesterday; else 0. Days after `today` (logged in a zone ahead of the
 * request's) never count towards `current`. A run that starts today contains today, so the run
 * with the greatest `first_day <= today` is the only candidate for both.
 *
 * The statements are kept small to plan: Postgres plans every statement the service sends, and
 * for these that costs more than running them.
 */

/** The streak of a day (a date expression), or null when no run contains it. */
function dayStreak (userId: string, day: RawBuilder<unknown>): RawBuilder<number | null> {
  return sql<number | null>`(
    select case when last_day >= ${day} then ${day} - first_day + 1 end
    from streak_runs
    where user_id = ${userId} and first_day <= ${day}
    order by first_day desc
    limit 1
  )`
}

function longest (userId: string): RawBuilder<number> {
  return sql<number>`coalesce((select longest from user_streaks where user_id = ${userId}), 0)`
}

function current (userId: string, today: string): RawBuilder<number> {
  return sql<number>`coalesce((
    select case
      when last_day >= ${today}::date then ${today}::date - first_day + 1
      when last_day = ${today}::date - 1 then ${today}::date - first_day
      else 0
    end
    from streak_runs
    where user_id = ${userId} and first_day <= ${today}::date
    order by first_day desc
    limit 1
  ), 0)`
}

export interface Streaks {
  streak: MoodStreak
  /** The streak of the day asked for; null when it has no entry (or none was asked for). */
  dayStreak: number | null
}

/** The user's streak, and the streak of one day (that of the entry being answered). */
export async function readStreaks (db: Db, userId: string, today: string, day: string | null = null): Promise<Streaks> {
  const { rows } = await sql<{ longest: number, current: number, day_streak: number | null }>`
    select ${longest(userId)} as longest, ${current(userId, today)} as current, ${dayStreak(userId, sql`${day}::date`)} as day_streak
  `.execute(db)
  const row = rows[0]!
  return { streak: { current: row.current, longest: row.longest }, dayStreak: row.day_streak }
}

export interface PageWithStreaks {
  /** The entries newest first, each with the streak of its day. */
  rows: Array<EntryRow & { streak: number }>
  streak: MoodStreak
}

/**
 * A page of the user's entries (newest first) with the streak of each, and the user's streak, in
 * one statement: the page query with one lookup per entry and the summary as columns (computed
 * once). Only an empty page needs a second statement for the summary.
 */
export async function listEntriesWithStreaks (db: Db, userId: string, today: string, options: ListEntriesOptions): Promise<PageWithStreaks> {
  const rows = await entriesPageQuery(db, userId, options)
    .select([
      dayStreak(userId, sql`entries.day`).as('streak'),
      longest(userId).as('longest'),
      current(userId, today).as('current')
    ])
    .execute()
  const first = rows[0]
  const streak = first === undefined ? (await readStreaks(db, userId, today)).streak : { current: first.current, longest: first.longest }
  return {
    rows: rows.map(({ longest: _longest, current: _current, streak: dayStreak, ...row }) => ({ ...row, streak: dayStreak ?? 1 })),
    streak
  }
}
