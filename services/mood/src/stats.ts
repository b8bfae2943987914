import type { MoodStats } from '@pulse/contracts'
import type { DailyTotals } from './repositories/stats.js'

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const

function average (total: number, count: number): number | null {
  return count === 0 ? null : Math.round((total / count) * 100) / 100
}

/** The stats of a period from its per-day totals (at most a few hundred rows, already aggregated by Postgres). */
export function summarizeStats (days: number, totals: readonly DailyTotals[]): MoodStats {
  const weekdays = WEEKDAYS.map(() => ({ count: 0, total: 0 }))
  const distribution = [0, 0, 0, 0, 0]
  let count = 0
  let total = 0
  for (const day of totals) {
    count += day.count
    total += day.total
    const weekday = weekdays[day.weekday - 1]!
    weekday.count += day.count
    weekday.total += day.total
    day.scores.forEach((n, i) => { distribution[i]! += n })
  }
  return {
    days,
    from: totals[0]!.day,
    to: totals[totals.length - 1]!.day,
    count,
    averageScore: average(total, count),
    distribution: distribution.map((n, i) => ({ score: i + 1, count: n })),
    byWeekday: weekdays.map((w, i) => ({ weekday: i + 1, name: WEEKDAYS[i]!, count: w.count, averageScore: average(w.total, w.count) })),
    perDay: totals.map((d) => ({ day: d.day, count: d.count, averageScore: average(d.total, d.count) }))
  }
}
