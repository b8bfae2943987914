import { sql } from 'kysely'
import t from 'tap'
import type { MoodListResponse } from '@pulse/contracts'
import { build, identity, iso, logMood, newUserId, TestClock } from './helper.js'

// Streak rules of docs/api.md ("Mood"). Each test has its own user; "now" is set, never waited for.
const clock = new TestClock(Date.parse('2024-03-05T12:00:00Z'))
const { app, db } = await build(t, { clock })

async function list (userId: string, timezone = 'UTC'): Promise<MoodListResponse> {
  const res = await app.inject({ url: '/mood?limit=100', headers: identity(userId, timezone) })
  if (res.statusCode !== 200) throw new Error(`GET /mood answered ${res.statusCode}: ${res.body}`)
  return res.json<MoodListResponse>()
}

/** day → streak of that day's entries, as the list reports them. */
async function streaksByDay (userId: string, timezone = 'UTC'): Promise<Record<string, number>> {
  const { items } = await list(userId, timezone)
  return Object.fromEntries(items.map((e) => [e.day, e.streak]))
}

t.test('entries on March 1, 2, 3 and 5 have streaks 1, 2, 3, 1; current is 1 on March 5 and 0 on March 7', async (t) => {
  clock.set('2024-03-05T20:00:00Z')
  const user = newUserId()
  const answers = []
  for (const day of ['2024-03-01', '2024-03-02', '2024-03-03', '2024-03-05']) answers.push(await logMood(app, user, { score: 4, loggedAt: `${day}T09:00:00Z` }))
  t.same(answers.map((a) => a.entry.streak), [1, 2, 3, 1], 'each POST answers the streak of its own entry')
  t.same(answers[3]!.streak, { current: 1, longest: 3 })
  t.same(await streaksByDay(user), { '2024-03-01': 1, '2024-03-02': 2, '2024-03-03': 3, '2024-03-05': 1 })

  clock.set('2024-03-06T08:00:00Z')
  t.same((await list(user)).streak, { current: 1, longest: 3 }, 'the run ending yesterday still counts while nothing is logged today')
  clock.set('2024-03-07T08:00:00Z')
  t.same((await list(user)).streak, { current: 0, longest: 3 }, 'a missed day ends it')
  clock.set('2024-03-04T08:00:00Z')
  t.same((await list(user)).streak, { current: 3, longest: 3 }, 'on March 4 the run of March 1-3 ended yesterday')
})

t.test('two entries on one day count once and share that day\'s streak', async (t) => {
  clock.set('2024-03-05T20:00:00Z')
  const user = newUserId()
  await logMood(app, user, { score: 2, loggedAt: '2024-03-04T08:00:00Z' })
  await logMood(app, user, { score: 3, loggedAt: '2024-03-05T07:00:00Z' })
  const second = await logMood(app, user, { score: 5, loggedAt: '2024-03-05T19:00:00Z' })
  t.equal(second.entry.streak, 2)
  t.same(second.streak, { current: 2, longest: 2 })
  const { items } = await list(user)
  t.same(items.map((e) => [e.day, e.streak]), [['2024-03-05', 2], ['2024-03-05', 2], ['2024-03-04', 1]])
})

t.test('a user without entries has current 0 and longest 0', async (t) => {
  const body = await list(newUserId())
  t.same(body, { items: [], nextCursor: null, streak: { current: 0, longest: 0 } })
})

t.test('an entry logged at 23:30 in New York lands on the New York day, not the UTC one', async (t) => {
  clock.set('2024-03-05T12:00:00Z')
  const user = newUserId()
  // 23:30 on March 1 in New York (UTC-5) is 04:30 on March 2 in UTC.
  const { entry } = await logMood(app, user, { score: 3, loggedAt: '2024-03-02T04:30:00Z' }, 'America/New_York')
  t.equal(entry.day, '2024-03-01')
  t.equal(entry.loggedAt, '2024-03-02T04:30:00.000Z')
  const { entry: utc } = await logMood(app, newUserId(), { score: 3, loggedAt: '2024-03-02T04:30:00Z' }, 'UTC')
  t.equal(utc.day, '2024-03-02', 'the same instant is March 2 for a user in UTC')
})

t.test('an entry without loggedAt is logged now, on today in the user\'s zone', async (t) => {
  clock.set('2024-03-05T02:00:00Z') // still March 4 in Los Angeles
  const { entry, streak } = await logMood(app, newUserId(), { score: 4 }, 'America/Los_Angeles')
  t.equal(entry.loggedAt, '2024-03-05T02:00:00.000Z')
  t.equal(entry.day, '2024-03-04')
  t.same(streak, { current: 1, longest: 1 })
})

t.test('days of 23 and 25 hours (DST changes) do not break a streak', async (t) => {
  const cases = [
    { zone: 'America/New_York', days: ['2024-03-09', '2024-03-10', '2024-03-11'], short: '2024-03-10' },
    { zone: 'America/New_York', days: ['2024-11-02', '2024-11-03', '2024-11-04'], short: '2024-11-03' },
    { zone: 'Europe/Berlin', days: ['2024-03-30', '2024-03-31', '2024-04-01'], short: '2024-03-31' },
    { zone: 'Europe/Berlin', days: ['2024-10-26', '2024-10-27', '2024-10-28'], short: '2024-10-27' }
  ]
  for (const { zone, days } of cases) {
    const user = newUserId()
    const lastDay = days[days.length - 1]!
    clock.time = Date.parse(iso(lastDay, '23:59', zone))
    // Late on the first day, early and late on the changing day, early on the last: 24-hour
    // arithmetic on instants would put these on the wrong days.
    const logged = [
      await logMood(app, user, { score: 3, loggedAt: iso(days[0]!, '23:45', zone) }, zone),
      await logMood(app, user, { score: 3, loggedAt: iso(days[1]!, '00:15', zone) }, zone),
      await logMood(app, user, { score: 3, loggedAt: iso(days[1]!, '23:45', zone) }, zone),
      await logMood(app, user, { score: 3, loggedAt: iso(days[2]!, '00:15', zone) }, zone)
    ]
    t.same(logged.map((l) => l.entry.day), [days[0], days[1], days[1], days[2]], `${zone} ${days[1]}: each entry on its local day`)
    t.same(logged.map((l) => l.entry.streak), [1, 2, 2, 3], `${zone} ${days[1]}: the run goes on`)
    t.same(logged[3]!.streak, { current: 3, longest: 3 })
  }
})

t.test('deleting the middle day of a three-day streak splits it', async (t) => {
  clock.set('2024-03-05T20:00:00Z')
  const user = newUserId()
  await logMood(app, user, { score: 3, loggedAt: '2024-03-03T10:00:00Z' })
  const middle = await logMood(app, user, { score: 3, loggedAt: '2024-03-04T10:00:00Z' })
  await logMood(app, user, { score: 3, loggedAt: '2024-03-05T10:00:00Z' })
  t.same((await list(user)).streak, { current: 3, longest: 3 })

  const res = await app.inject({ method: 'DELETE', url: `/mood/${middle.entry.id}`, headers: identity(user) })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  const after = await list(user)
  t.same(after.streak, { current: 1, longest: 1 })
  t.same(after.items.map((e) => [e.day, e.streak]), [['2024-03-05', 1], ['2024-03-03', 1]])
})

t.test('a backdated entry that fills a gap joins two runs', async (t) => {
  clock.set('2024-03-05T20:00:00Z')
  const user = newUserId()
  for (const day of ['2024-03-01', '2024-03-02', '2024-03-04', '2024-03-05']) await logMood(app, user, { score: 3, loggedAt: `${day}T10:00:00Z` })
  t.same((await list(user)).streak, { current: 2, longest: 2 })
  const filled = await logMood(app, user, { score: 3, loggedAt: '2024-03-03T10:00:00Z' })
  t.equal(filled.entry.streak, 3)
  t.same(filled.streak, { current: 5, longest: 5 })
  t.same(await streaksByDay(user), { '2024-03-01': 1, '2024-03-02': 2, '2024-03-03': 3, '2024-03-04': 4, '2024-03-05': 5 })
})

t.test('changing the time zone does not move the days of entries already logged', async (t) => {
  clock.set('2024-03-05T20:00:00Z')
  const user = newUserId()
  // 03:00 UTC is the evening before in Los Angeles.
  const first = await logMood(app, user, { score: 3, loggedAt: '2024-03-04T03:00:00Z' }, 'America/Los_Angeles')
  t.equal(first.entry.day, '2024-03-03')
  // The user moves to Tokyo: the same instant would be March 4 there, but the entry stays on March 3.
  const second = await logMood(app, user, { score: 4, loggedAt: '2024-03-04T20:00:00Z' }, 'Asia/Tokyo')
  t.equal(second.entry.day, '2024-03-05')
  const { items } = await list(user, 'Asia/Tokyo')
  t.same(items.map((e) => e.day), ['2024-03-05', '2024-03-03'])
  const stored = await db.selectFrom('entries').select([sql<string>`day::text`.as('day'), 'timezone']).where('id', '=', first.entry.id).executeTakeFirstOrThrow()
  t.same(stored, { day: '2024-03-03', timezone: 'America/Los_Angeles' }, 'the day is stored with the entry')
})

t.test('"today" is the day of the request\'s time zone', async (t) => {
  const user = newUserId()
  clock.set('2024-03-05T20:00:00Z')
  await logMood(app, user, { score: 3, loggedAt: '2024-03-04T12:00:00Z' })
  await logMood(app, user, { score: 3, loggedAt: '2024-03-05T12:00:00Z' })
  clock.set('2024-03-06T20:00:00Z') // March 6 in UTC, already March 7 in Auckland
  t.same((await list(user, 'UTC')).streak, { current: 2, longest: 2 }, 'yesterday in UTC')
  t.same((await list(user, 'Pacific/Auckland')).streak, { current: 0, longest: 2 }, 'two days ago in Auckland')
})

t.test('a day ahead of the request\'s today does not count towards current', async (t) => {
  clock.set('2024-03-05T12:00:00Z') // 02:00 on March 6 in Kiritimati (UTC+14)
  const user = newUserId()
  const { entry } = await logMood(app, user, { score: 3 }, 'Pacific/Kiritimati')
  t.equal(entry.day, '2024-03-06')
  t.same((await list(user, 'Pacific/Kiritimati')).streak, { current: 1, longest: 1 })
  t.same((await list(user, 'UTC')).streak, { current: 0, longest: 1 }, 'March 6 has not begun in UTC')
})

t.test('PATCH of loggedAt moves the entry to its day in the request\'s time zone', async (t) => {
  clock.set('2024-03-05T20:00:00Z')
  const user = newUserId()
  await logMood(app, user, { score: 3, loggedAt: '2024-03-01T10:00:00Z' })
  const moved = await logMood(app, user, { score: 3, loggedAt: '2024-03-05T10:00:00Z' })
  t.same(moved.streak, { current: 1, longest: 1 })
  const res = await app.inject({
    method: 'PATCH', url: `/mood/${moved.entry.id}`, headers: identity(user, 'America/New_York'), payload: { loggedAt: '2024-03-03T03:00:00Z' }
  })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.entry.day, '2024-03-02', '03:00 UTC on March 3 is March 2 in New York')
  t.equal(body.entry.streak, 2)
  t.same(body.streak, { current: 0, longest: 2 })

  const scoreOnly = await app.inject({ method: 'PATCH', url: `/mood/${moved.entry.id}`, headers: identity(user, 'Asia/Tokyo'), payload: { score: 5, label: 'calm' } })
  t.equal(scoreOnly.statusCode, 200)
  t.match(scoreOnly.json().entry, { score: 5, label: 'calm', day: '2024-03-02' }, 'without loggedAt the day stays, whatever the zone')
  const cleared = await app.inject({ method: 'PATCH', url: `/mood/${moved.entry.id}`, headers: identity(user), payload: { label: null, note: null } })
  t.match(cleared.json().entry, { label: null, note: null, score: 5 })
})

t.test('ten years of daily entries: the streak is computed from all of them', async (t) => {
  clock.set('2024-03-05T12:00:00Z')
  const user = newUserId()
  // 3,650 consecutive days ending yesterday, inserted directly (as ten years of use would).
  await sql`
    insert into entries (user_id, score, logged_at, day, timezone)
    select ${user}, 1 + (n % 5), (date '2024-03-04' - n) + time '12:00', date '2024-03-04' - n, 'UTC'
    from generate_series(0, 3649) as n
  `.execute(db)
  await sql`insert into entries (user_id, score, logged_at, day, timezone) values (${user}, 3, '2014-01-01T12:00:00Z', '2014-01-01', 'UTC')`.execute(db)
  const body = await list(user)
  t.same(body.streak, { current: 3650, longest: 3650 })
  t.equal(body.items[0]!.streak, 3650, 'the newest entry ends the whole run')
  t.equal(body.items[99]!.streak, 3551)
  const today = await logMood(app, user, { score: 5 })
  t.equal(today.entry.streak, 3651)
  t.same(today.streak, { current: 3651, longest: 3651 })
})
