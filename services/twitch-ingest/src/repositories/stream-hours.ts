import { sql } from 'kysely'
import type { Db } from '../db/database.js'

/**
 * Seconds live on each local day from `fromDate` to `toDate` (YYYY-MM-DD, both included) in the
 * time zone `timezone`, from the stream sessions; a session still open counts up to `now`. Postgres
 * turns each local day into its instants (`at time zone`), so days of 23 or 25 hours are right, and
 * a session across midnight counts on both days. (`greatest`/`least` skip nulls: the days without a
 * session are left out of the sum explicitly.)
 */
export async function secondsLivePerDay (db: Db, userId: string, timezone: string, fromDate: string, toDate: string, now: Date): Promise<Array<{ date: string, seconds: number }>> {
  const { rows } = await sql<{ date: string, seconds: string }>`
    with days as (
      select d::date as day,
             (d::timestamp at time zone ${timezone}) as day_start,
             ((d + interval '1 day')::timestamp at time zone ${timezone}) as day_end
      from generate_series(${fromDate}::date, ${toDate}::date, interval '1 day') as d
    )
    select to_char(days.day, 'YYYY-MM-DD') as date,
           coalesce(sum(greatest(0, extract(epoch from
             least(coalesce(s.ended_at, ${now}::timestamptz), days.day_end) - greatest(s.started_at, days.day_start)
           ))) filter (where s.id is not null), 0) as seconds
    from days
    left join stream_sessions s
      on s.user_id = ${userId} and s.started_at < days.day_end and coalesce(s.ended_at, ${now}::timestamptz) > days.day_start
    group by days.day
    order by days.day`.execute(db)
  return rows.map((r) => ({ date: r.date, seconds: Number(r.seconds) }))
}
