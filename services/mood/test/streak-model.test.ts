import { createDatabase, createPool } from '@pulse/service-kit'
import { createTestDatabase } from '@pulse/testing'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { MOOD_SCHEMA, type Database } from '../src/db/database.js'
import { migrate } from '../src/db/migrate.js'
import { poolRunner } from '../src/db/statements.js'
import { pageReader, readStreaks, type ListEntriesOptions } from '../src/repositories/streaks.js'

// The streak model's statements on their own, over a fresh migrated database: entries are written
// straight into the table (its triggers keep the runs), then the user's streak, a day's streak and
// every shape of page are read back. (test/streaks.test.ts shows the same rules through the API,
// test/streak-property.test.ts against a reference model.)

const databaseUrl = await createTestDatabase(t)
await migrate(databaseUrl)
const db = createDatabase<Database>({ url: databaseUrl, schema: MOOD_SCHEMA, poolMax: 2 })
const pool = createPool({ url: databaseUrl, schema: MOOD_SCHEMA, poolMax: 2 })
const run = poolRunner(pool)
t.teardown(async () => {
  await pool.end()
  await db.destroy()
})

/** Logs an entry on `day` (UTC) at `time`; returns its id. */
async function add (userId: string, day: string, time = '09:00:00', score = 3): Promise<string> {
  const { id } = await db.insertInto('entries').values({
    user_id: userId, score, label: `l-${day}`, note: null, logged_at: new Date(`${day}T${time}Z`), day, timezone: 'UTC'
  }).returning('id').executeTakeFirstOrThrow()
  return id
}
const streaksOn = async (userId: string, today: string, day: string | null = null) => await readStreaks(run, userId, today, day)

// March 1–3 and 5, 2024; another user's entries on the 4th must never join them.
const ada = randomUUID()
for (const day of ['2024-03-01', '2024-03-02', '2024-03-03', '2024-03-05']) await add(ada, day)
await add(randomUUID(), '2024-03-04')

t.test('a user without entries has no streak', async (t) => {
  t.same(await streaksOn(randomUUID(), '2024-03-05', '2024-03-05'), { streak: { current: 0, longest: 0 }, dayStreak: null })
})

t.test('current: the run containing today, else the one that ended yesterday, else 0', async (t) => {
  t.same((await streaksOn(ada, '2024-03-05')).streak, { current: 1, longest: 3 }, 'a run that starts today')
  t.same((await streaksOn(ada, '2024-03-06')).streak, { current: 1, longest: 3 }, 'ended yesterday, nothing logged today')
  t.same((await streaksOn(ada, '2024-03-04')).streak, { current: 3, longest: 3 }, 'March 1–3 ended yesterday')
  t.same((await streaksOn(ada, '2024-03-07')).streak, { current: 0, longest: 3 }, 'a missed day ends it')
  t.same((await streaksOn(ada, '2024-03-03')).streak, { current: 3, longest: 3 }, 'today is the last day of the run')
  t.same((await streaksOn(ada, '2024-03-02')).streak, { current: 2, longest: 3 }, 'counted up to today: later days do not count')
  t.same((await streaksOn(ada, '2024-03-01')).streak, { current: 1, longest: 3 })
  t.same((await streaksOn(ada, '2024-02-29')).streak, { current: 0, longest: 3 }, 'before every run')
  t.equal((await streaksOn(ada, '2024-03-05')).dayStreak, null, 'no day asked, no day streak')
})

t.test('a day\'s streak: its place in its run, or null when no run contains it', async (t) => {
  const dayStreak = async (day: string) => (await streaksOn(ada, '2024-03-05', day)).dayStreak
  t.same(await Promise.all(['2024-03-01', '2024-03-02', '2024-03-03', '2024-03-05'].map(dayStreak)), [1, 2, 3, 1])
  t.equal(await dayStreak('2024-03-04'), null, 'a gap')
  t.equal(await dayStreak('2024-02-29'), null, 'before every run')
  t.equal(await dayStreak('2024-03-06'), null, 'after every run')
})

t.test('the longest run is kept as runs grow and split', async (t) => {
  const user = randomUUID()
  for (const day of ['2024-01-10', '2024-01-11']) await add(user, day)
  t.same((await streaksOn(user, '2024-03-05')).streak, { current: 0, longest: 2 })
  for (const day of ['2024-03-01', '2024-03-02', '2024-03-03', '2024-03-04']) await add(user, day)
  t.same((await streaksOn(user, '2024-03-05')).streak, { current: 4, longest: 4 })
  t.same((await streaksOn(user, '2024-01-12')).streak, { current: 2, longest: 4 })
})

const reader = pageReader(3)
const page = async (userId: string, options: Partial<ListEntriesOptions> = {}, today = '2024-03-05') => await reader(run, userId, today, { limit: 3, ...options })
const daysOf = (p: { entries: { day: string }[] }) => p.entries.map((e) => e.day)

t.test('a page is newest first, each entry with its day\'s streak and nothing else, with the user\'s streak', async (t) => {
  const first = await page(ada)
  t.same(daysOf(first), ['2024-03-05', '2024-03-03', '2024-03-02'])
  t.same(first.entries.map((e) => e.streak), [1, 3, 2])
  t.same(first.streak, { current: 1, longest: 3 })
  t.same(Object.keys(first.entries[0]!).sort(), ['day', 'id', 'label', 'loggedAt', 'note', 'score', 'streak'])
  t.match(first.entries[0], { score: 3, label: 'l-2024-03-05', note: null, loggedAt: '2024-03-05T09:00:00.000Z', day: '2024-03-05' })
  t.same((await page(ada, {}, '2024-03-04')).streak, { current: 3, longest: 3 }, 'the summary is as of today')
})

t.test('pages follow one another through the cursor, at the prepared size and any other', async (t) => {
  const first = await page(ada)
  const last = first.entries[2]!
  const next = await page(ada, { after: { loggedAt: new Date(last.loggedAt), id: last.id } })
  t.same(daysOf(next), ['2024-03-01'])
  t.same(next.entries.map((e) => e.streak), [1])
  t.same(next.streak, { current: 1, longest: 3 })
  const two = await page(ada, { limit: 2 })
  t.same(daysOf(two), ['2024-03-05', '2024-03-03'])
  const after = two.entries[1]!
  t.same(daysOf(await page(ada, { limit: 2, after: { loggedAt: new Date(after.loggedAt), id: after.id } })), ['2024-03-02', '2024-03-01'])
  t.same(daysOf(await page(ada, { limit: 10 })), ['2024-03-05', '2024-03-03', '2024-03-02', '2024-03-01'])
})

t.test('entries logged at the same instant are ordered by id, and the cursor passes between them', async (t) => {
  const user = randomUUID()
  const ids = [await add(user, '2024-03-05', '10:00:00'), await add(user, '2024-03-05', '10:00:00'), await add(user, '2024-03-05', '10:00:00')].sort().reverse()
  for (const limit of [1, 3]) {
    const seen: string[] = []
    let after: ListEntriesOptions['after']
    for (let i = 0; i < 3; i++) {
      const p = await page(user, { limit, after })
      seen.push(...p.entries.map((e) => e.id))
      const lastEntry = p.entries[p.entries.length - 1]
      if (lastEntry === undefined || seen.length >= 3) break
      after = { loggedAt: new Date(lastEntry.loggedAt), id: lastEntry.id }
    }
    t.same(seen, ids, `pages of ${limit}`)
  }
})

t.test('from and to bound the days, both included, in every combination, with and without a cursor', async (t) => {
  const all = ['2024-03-05', '2024-03-03', '2024-03-02', '2024-03-01']
  const expect = (from?: string, to?: string) => all.filter((d) => (from === undefined || d >= from) && (to === undefined || d <= to))
  for (const limit of [3, 10]) {
    for (const [from, to] of [[undefined, undefined], ['2024-03-02', undefined], [undefined, '2024-03-03'], ['2024-03-02', '2024-03-03'], ['2024-03-03', '2024-03-03']] as const) {
      const options = { limit, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) }
      const first = await page(ada, options)
      const wanted = expect(from, to)
      t.same(daysOf(first), wanted.slice(0, limit), `limit ${limit}, ${from ?? '…'} to ${to ?? '…'}`)
      t.same(first.streak, { current: 1, longest: 3 })
      const cut = first.entries[0]!
      const rest = await page(ada, { ...options, after: { loggedAt: new Date(cut.loggedAt), id: cut.id } })
      t.same(daysOf(rest), wanted.slice(1, 1 + limit), `after the first, limit ${limit}, ${from ?? '…'} to ${to ?? '…'}`)
    }
  }
})

t.test('an empty page still carries the user\'s streak', async (t) => {
  const empty = await page(ada, { from: '2024-04-01' })
  t.same(empty, { entries: [], streak: { current: 1, longest: 3 } })
  t.same(await page(ada, { limit: 10, to: '2024-02-01' }, '2024-03-04'), { entries: [], streak: { current: 3, longest: 3 } })
  t.same(await page(randomUUID()), { entries: [], streak: { current: 0, longest: 0 } })
})
