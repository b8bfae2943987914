import type { MoodEntry, MoodStreak } from '@pulse/contracts'
import type { Runner, Statement } from '../db/statements.js'
import { ENTRY_COLUMNS, type EntryPosition } from './entries.js'

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
 * In every statement here $1 is the user and $2 today (YYYY-MM-DD).
 */

/** The streak of a day (an SQL date expression), or null when no run contains it. */
const dayStreak = (day: string): string => `(
  select case when last_day >= ${day} then ${day} - first_day + 1 end
  from streak_runs
  where user_id = $1 and first_day <= ${day}
  order by first_day desc
  limit 1
)`

const LONGEST = 'coalesce((select longest from user_streaks where user_id = $1), 0)'

const CURRENT = `coalesce((
  select case
    when last_day >= $2::date then $2::date - first_day + 1
    when last_day = $2::date - 1 then $2::date - first_day
    else 0
  end
  from streak_runs
  where user_id = $1 and first_day <= $2::date
  order by first_day desc
  limit 1
), 0)`

/** $3: the day whose streak is asked for, or null. */
const readStreaksStatement: Statement = {
  name: 'mood_read_streaks',
  text: `select ${LONGEST} as longest, ${CURRENT} as current, ${dayStreak('$3::date')} as day_streak`
}

export interface Streaks {
  streak: MoodStreak
  /** The streak of the day asked for; null when it has no entry (or none was asked for). */
  dayStreak: number | null
}

/** The user's streak, and the streak of one day (that of the entry being answered). */
export async function readStreaks (run: Runner, userId: string, today: string, day: string | null = null): Promise<Streaks> {
  const [row] = await run.rows<{ longest: number, current: number, day_streak: number | null }>(readStreaksStatement, [userId, today, day])
  if (row === undefined) throw new Error('the streak query returned no row')
  return { streak: { current: row.current, longest: row.longest }, dayStreak: row.day_streak }
}

export interface ListEntriesOptions {
  /** First and last day included (YYYY-MM-DD). */
  from?: string
  to?: string
  /** Entries strictly after this position in the newest-first order. */
  after?: EntryPosition
  limit: number
}

/**
 * The page statement for a set of filters: a page newest first (logged_at desc, id desc) is a scan
 * of the (user_id, logged_at desc, id desc) index, whose cursor condition is a bound of that scan;
 * each entry gets its day's streak, and every row the user's (computed once). The limit is written
 * in, or else is $3; the filters' values follow in this order.
 */
function pageStatement (from: boolean, to: boolean, after: boolean, limit: number | null): string {
  const conditions = ['user_id = $1']
  let n = limit === null ? 3 : 2
  if (from) conditions.push(`day >= $${++n}::date`)
  if (to) conditions.push(`day <= $${++n}::date`)
  if (after) conditions.push(`(logged_at, id) < ($${n + 1}::timestamptz, $${n + 2}::uuid)`)
  return `select ${ENTRY_COLUMNS}, coalesce(${dayStreak('entries.day')}, 1) as streak, ${LONGEST} as longest, ${CURRENT} as current
    from entries
    where ${conditions.join(' and ')}
    order by logged_at desc, id desc
    limit ${limit === null ? '$3' : limit}`
}

export interface PageWithStreaks {
  /** The entries newest first, each with the streak of its day. */
  entries: MoodEntry[]
  streak: MoodStreak
}

export type ListEntriesWithStreaks = (run: Runner, userId: string, today: string, options: ListEntriesOptions) => Promise<PageWithStreaks>

/**
 * Reads a page of the user's entries (newest first) with the streak of each, and the user's
 * streak, in one statement; only an empty page needs a second one for the summary.
 *
 * Pages of `preparedLimit` rows (the default page size and one more) without from/to are the hot
 * path: their statements are prepared with the limit written in. Postgres keeps one plan for a
 * prepared statement only if that plan costs about what plans for the actual values cost, and with
 * a LIMIT parameter it assumes a tenth of the user's entries are read, so it would plan every run.
 * (Pages after a cursor are still planned with their values: the cursor's bound makes the generic
 * plan look dearer. Prepared, they are at least not parsed again.) Pages of other sizes are planned with their values on every request, and so are pages with
 * from/to, whose best plan depends on the range (a short one long ago is best found through
 * (user_id, day) and sorted).
 */
export function pageReader (preparedLimit: number): ListEntriesWithStreaks {
  const firstPage: Statement = { name: `mood_page_${preparedLimit}`, text: pageStatement(false, false, false, preparedLimit) }
  const nextPage: Statement = { name: `mood_page_after_${preparedLimit}`, text: pageStatement(false, false, true, preparedLimit) }
  /** The others, indexed by from × 4 + to × 2 + after. */
  const planned = [false, true].flatMap((from) => [false, true].flatMap((to) => [false, true].map((after): Statement => ({ text: pageStatement(from, to, after, null) }))))

  return async (run, userId, today, { from, to, after, limit }) => {
    let statement: Statement
    const values: unknown[] = [userId, today]
    if (limit === preparedLimit && from === undefined && to === undefined) {
      statement = after === undefined ? firstPage : nextPage
    } else {
      statement = planned[(from !== undefined ? 4 : 0) + (to !== undefined ? 2 : 0) + (after !== undefined ? 1 : 0)]!
      values.push(limit)
      if (from !== undefined) values.push(from)
      if (to !== undefined) values.push(to)
    }
    if (after !== undefined) values.push(after.loggedAt, after.id)
    const rows = await run.rows<MoodEntry & { longest: number, current: number }>(statement, values)
    const first = rows[0]
    const streak = first === undefined ? (await readStreaks(run, userId, today)).streak : { current: first.current, longest: first.longest }
    const entries = rows.map((row): MoodEntry => ({
      id: row.id, score: row.score, label: row.label, note: row.note, loggedAt: row.loggedAt, day: row.day, streak: row.streak
    }))
    return { entries, streak }
  }
}
