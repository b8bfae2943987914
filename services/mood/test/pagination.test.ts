import t from 'tap'
import type { MoodEntry, MoodListResponse } from '@pulse/contracts'
import { build, identity, logMood, newUserId, TestClock } from './helper.js'

const clock = new TestClock(Date.parse('2024-03-10T12:00:00Z'))
const { app } = await build(t, { clock })

async function page (userId: string, query: string, timezone = 'UTC'): Promise<MoodListResponse> {
  const res = await app.inject({ url: `/mood?${query}`, headers: identity(userId, timezone) })
  if (res.statusCode !== 200) throw new Error(`GET /mood?${query} answered ${res.statusCode}: ${res.body}`)
  return res.json<MoodListResponse>()
}

/** Follows nextCursor to the end; the pages and every item in order. */
async function walk (userId: string, query: string) {
  const pages: MoodListResponse[] = []
  let cursor: string | null = null
  do {
    const next: MoodListResponse = await page(userId, cursor === null ? query : `${query}&cursor=${cursor}`)
    pages.push(next)
    cursor = next.nextCursor
  } while (cursor !== null && pages.length < 50)
  return { pages, items: pages.flatMap((p) => p.items) }
}

const newestFirst = (a: MoodEntry, b: MoodEntry): number =>
  a.loggedAt === b.loggedAt ? (a.id < b.id ? 1 : -1) : (a.loggedAt < b.loggedAt ? 1 : -1)

t.test('walking the pages with limit and cursor returns every entry once, newest first', async (t) => {
  const user = newUserId()
  const logged: MoodEntry[] = []
  for (let i = 0; i < 23; i++) {
    // Out of order, and entries i and i + 12 share an instant: ties are broken by id.
    const { entry } = await logMood(app, user, { score: 1 + (i % 5), loggedAt: `2024-03-0${1 + (i % 4)}T${String((i % 3) * 5).padStart(2, '0')}:00:00Z` })
    logged.push(entry)
  }
  const { pages, items } = await walk(user, 'limit=5')
  t.same(pages.map((p) => p.items.length), [5, 5, 5, 5, 3])
  t.equal(pages[4]!.nextCursor, null, 'the last page says so')
  t.same(items.map((e) => e.id), [...logged].sort(newestFirst).map((e) => e.id), 'every entry once, newest first')
  t.equal(new Set(items.map((e) => e.id)).size, 23)
  t.ok(pages.every((p) => p.streak.longest === 4), 'every page carries the streak')
  t.equal(new Set(items.map((e) => e.loggedAt)).size, 12, 'with ties')

  const exact = await walk(user, 'limit=23')
  t.same(exact.pages.map((p) => p.items.length), [23], 'a page that holds everything has no next cursor')
})

t.test('entries logged while walking neither repeat nor push others out', async (t) => {
  const user = newUserId()
  for (let day = 1; day <= 6; day++) await logMood(app, user, { score: 3, loggedAt: `2024-03-0${day}T10:00:00Z` })
  const first = await page(user, 'limit=3')
  await logMood(app, user, { score: 5, loggedAt: '2024-03-09T10:00:00Z' }) // newer than everything
  const second = await page(user, `limit=3&cursor=${first.nextCursor}`)
  t.same([...first.items, ...second.items].map((e) => e.day), ['2024-03-06', '2024-03-05', '2024-03-04', '2024-03-03', '2024-03-02', '2024-03-01'])
  t.equal(second.nextCursor, null)
})

t.test('the page size defaults to 20', async (t) => {
  const user = newUserId()
  for (let i = 0; i < 21; i++) await logMood(app, user, { score: 3, loggedAt: new Date(Date.parse('2024-03-01T00:00:00Z') + i * 3_600_000).toISOString() })
  const first = await page(user, '')
  t.equal(first.items.length, 20)
  t.type(first.nextCursor, 'string')
})

t.test('from and to filter by the stored day, inclusive', async (t) => {
  const user = newUserId()
  for (let day = 1; day <= 6; day++) await logMood(app, user, { score: 3, loggedAt: `2024-03-0${day}T15:00:00Z` })
  // 03:00 UTC on March 5 is still March 4 in New York: it belongs to March 4.
  await logMood(app, user, { score: 2, loggedAt: '2024-03-05T03:00:00Z' }, 'America/New_York')

  const middle = await page(user, 'from=2024-03-02&to=2024-03-04')
  t.same(middle.items.map((e) => e.day), ['2024-03-04', '2024-03-04', '2024-03-03', '2024-03-02'])
  t.same(middle.items.map((e) => e.loggedAt), ['2024-03-05T03:00:00.000Z', '2024-03-04T15:00:00.000Z', '2024-03-03T15:00:00.000Z', '2024-03-02T15:00:00.000Z'])
  t.same(middle.items.map((e) => e.streak), [4, 4, 3, 2], 'streaks count the days outside the filter too')

  t.same((await page(user, 'from=2024-03-05')).items.map((e) => e.day), ['2024-03-06', '2024-03-05'])
  t.same((await page(user, 'to=2024-03-01')).items.map((e) => e.day), ['2024-03-01'])
  t.same((await page(user, 'from=2024-03-03&to=2024-03-03')).items.map((e) => e.day), ['2024-03-03'], 'one day')
  t.same((await page(user, 'from=2024-04-01')).items, [])

  const { pages, items } = await walk(user, 'from=2024-03-02&to=2024-03-05&limit=2')
  t.same(pages.map((p) => p.items.length), [2, 2, 1], 'the filter holds across pages')
  t.same(items.map((e) => e.day), ['2024-03-05', '2024-03-04', '2024-03-04', '2024-03-03', '2024-03-02'])
})

t.test('the default and maximum page sizes are settings', async (t) => {
  const small = await build(t, { clock, env: { MOOD_PAGE_SIZE_DEFAULT: '2', MOOD_PAGE_SIZE_MAX: '3' } })
  const user = newUserId()
  for (let day = 1; day <= 4; day++) await logMood(small.app, user, { score: 3, loggedAt: `2024-03-0${day}T10:00:00Z` })
  const byDefault = await small.app.inject({ url: '/mood', headers: identity(user) })
  t.equal(byDefault.json().items.length, 2)
  const tooMany = await small.app.inject({ url: '/mood?limit=4', headers: identity(user) })
  t.equal(tooMany.statusCode, 400)
  t.equal(tooMany.json().message, 'querystring/limit must be <= 3')
})
