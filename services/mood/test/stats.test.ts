import t from 'tap'
import type { MoodStats } from '@pulse/contracts'
import { build, identity, logMood, newUserId, TestClock } from './helper.js'

// Sunday, March 10, 2024, midday in UTC.
const clock = new TestClock(Date.parse('2024-03-10T12:00:00Z'))
const { app } = await build(t, { clock })

async function stats (userId: string, query: string, timezone = 'UTC'): Promise<MoodStats> {
  const res = await app.inject({ url: `/mood/stats${query}`, headers: identity(userId, timezone) })
  if (res.statusCode !== 200) throw new Error(`GET /mood/stats${query} answered ${res.statusCode}: ${res.body}`)
  return res.json<MoodStats>()
}

const user = newUserId()
await logMood(app, user, { score: 5, loggedAt: '2024-02-26T10:00:00Z' }) // Monday, 13 days ago
await logMood(app, user, { score: 5, loggedAt: '2024-03-04T08:00:00Z' }) // Monday
await logMood(app, user, { score: 3, loggedAt: '2024-03-04T20:00:00Z' }) // Monday
await logMood(app, user, { score: 4, loggedAt: '2024-03-05T10:00:00Z' }) // Tuesday
// 03:00 UTC on Sunday is still Saturday evening in New York, where it was logged: a Saturday entry.
await logMood(app, user, { score: 1, loggedAt: '2024-03-10T03:00:00Z' }, 'America/New_York')
await logMood(app, user, { score: 2, loggedAt: '2024-03-10T09:00:00Z' }) // Sunday
await logMood(app, user, { score: 2, loggedAt: '2024-03-10T11:00:00Z' }) // Sunday
await logMood(app, newUserId(), { score: 5, loggedAt: '2024-03-10T11:00:00Z' }) // someone else's

t.test('the last 7 days: average, distribution, weekdays and every day of the period', async (t) => {
  const week = await stats(user, '?days=7')
  t.same(week, {
    days: 7,
    from: '2024-03-04',
    to: '2024-03-10',
    count: 6,
    averageScore: 2.83, // 17 / 6
    distribution: [{ score: 1, count: 1 }, { score: 2, count: 2 }, { score: 3, count: 1 }, { score: 4, count: 1 }, { score: 5, count: 1 }],
    byWeekday: [
      { weekday: 1, name: 'monday', count: 2, averageScore: 4 },
      { weekday: 2, name: 'tuesday', count: 1, averageScore: 4 },
      { weekday: 3, name: 'wednesday', count: 0, averageScore: null },
      { weekday: 4, name: 'thursday', count: 0, averageScore: null },
      { weekday: 5, name: 'friday', count: 0, averageScore: null },
      { weekday: 6, name: 'saturday', count: 1, averageScore: 1 },
      { weekday: 7, name: 'sunday', count: 2, averageScore: 2 }
    ],
    perDay: [
      { day: '2024-03-04', count: 2, averageScore: 4 },
      { day: '2024-03-05', count: 1, averageScore: 4 },
      { day: '2024-03-06', count: 0, averageScore: null },
      { day: '2024-03-07', count: 0, averageScore: null },
      { day: '2024-03-08', count: 0, averageScore: null },
      { day: '2024-03-09', count: 1, averageScore: 1 },
      { day: '2024-03-10', count: 2, averageScore: 2 }
    ]
  })
})

t.test('a longer period takes in older entries; weekday averages are over entries, not days', async (t) => {
  const fortnight = await stats(user, '?days=14')
  t.equal(fortnight.from, '2024-02-26')
  t.equal(fortnight.count, 7)
  t.equal(fortnight.averageScore, 3.14) // 22 / 7
  t.same(fortnight.byWeekday[0], { weekday: 1, name: 'monday', count: 3, averageScore: 4.33 }) // (5 + 5 + 3) / 3
  t.same(fortnight.distribution.map((d) => d.count), [1, 2, 1, 1, 2])
  t.equal(fortnight.perDay.length, 14)
})

t.test('the period defaults to 30 days and ends today in the request\'s time zone', async (t) => {
  const month = await stats(user, '')
  t.match(month, { days: 30, from: '2024-02-10', to: '2024-03-10', count: 7 })
  t.equal(month.perDay.length, 30)

  clock.set('2024-03-10T20:00:00Z') // already Monday, March 11, in Tokyo
  const tokyo = await stats(user, '?days=7', 'Asia/Tokyo')
  t.match(tokyo, { from: '2024-03-05', to: '2024-03-11', count: 4 })
  clock.set('2024-03-10T12:00:00Z')
})

t.test('without entries: zero counts and null averages', async (t) => {
  const empty = await stats(newUserId(), '?days=3')
  t.same(empty, {
    days: 3,
    from: '2024-03-08',
    to: '2024-03-10',
    count: 0,
    averageScore: null,
    distribution: [1, 2, 3, 4, 5].map((score) => ({ score, count: 0 })),
    byWeekday: empty.byWeekday.map((w) => ({ ...w, count: 0, averageScore: null })),
    perDay: ['2024-03-08', '2024-03-09', '2024-03-10'].map((day) => ({ day, count: 0, averageScore: null }))
  })
  t.equal(empty.byWeekday.length, 7)
})

t.test('the longest period is a setting', async (t) => {
  const small = await build(t, { clock, env: { MOOD_STATS_MAX_DAYS: '10' } })
  const res = await small.app.inject({ url: '/mood/stats?days=11', headers: identity(newUserId()) })
  t.equal(res.statusCode, 400)
  t.equal(res.json().message, 'querystring/days must be <= 10')
})
