import { sql } from 'kysely'
import type { Db } from './entries.js'

export interface DailyTotals {
  day: string
  /** ISO weekday of the day: 1 Monday … 7 Sunday. */
  weekday: number
  count: number
  /** Sum of the scores, so that averages over several days stay exact. */
  total: number
  /** Entries with score 1, 2, 3, 4, 5. */
  scores: [number, number, number, number, number]
}

/** One row per day of the period (oldest first, days without entries included), aggregated in Postgres. */
export async function readDailyTotals (db: Db, userId: string, from: string, days: number): Promise<DailyTotals[]> {
  const { rows } = await sql<{ day: string, weekday: number, count: number, total: number, s1: number, s2: number, s3: number, s4: number, s5: number }>`
    select period.day::text as day,
      extract(isodow from period.day)::int as weekday,
      count(e.id)::int as count,
      coalesce(sum(e.score), 0)::int as total,
      (count(e.id) filter (where e.score = 1))::int as s1,
      (count(e.id) filter (where e.score = 2))::int as s2,
      (count(e.id) filter (where e.score = 3))::int as s3,
      (count(e.id) filter (where e.score = 4))::int as s4,
      (count(e.id) filter (where e.score = 5))::int as s5
    from (select ${from}::date + n as day from generate_series(0, ${days - 1}::int) as n) as period
    left join entries e on e.user_id = ${userId} and e.day = period.day
    group by period.day
    order by period.day
  `.execute(db)
  return rows.map((r) => ({ day: r.day, weekday: r.weekday, count: r.count, total: r.total, scores: [r.s1, r.s2, r.s3, r.s4, r.s5] }))
}
