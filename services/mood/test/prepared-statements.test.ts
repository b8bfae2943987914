import { sql } from 'kysely'
import t from 'tap'
import type { MoodEntry, MoodListResponse } from '@pulse/contracts'
import { createPool } from '@pulse/service-kit'
import { createTestDatabase } from '@pulse/testing'
import { MOOD_SCHEMA } from '../src/db/database.js'
import * as streakRunsMigration from '../src/db/migrations/2026-11-22T02-00_streak_runs.js'
import * as perStatementMigration from '../src/db/migrations/2026-11-22T03-00_streak_runs_per_statement.js'
import { poolRunner } from '../src/db/statements.js'
import { pageReader } from '../src/repositories/streaks.js'
import { build, identity, logMood, newUserId, TestClock } from './helper.js'

// The hot paths run named prepared statements on the pool (src/db/statements.ts): they must give
// the same answers as the statements planned per request, and keep working when the connection
// or the schema under them changes.
const clock = new TestClock(Date.parse('2024-03-31T12:00:00Z'))
const databaseUrl = await createTestDatabase(t)
const { app, db } = await build(t, { clock, databaseUrl })

async function page (userId: string, query = ''): Promise<MoodListResponse> {
  const res = await app.inject({ url: `/mood?${query}`, headers: identity(userId) })
  if (res.statusCode !== 200) throw new Error(`GET /mood?${query} answered ${res.statusCode}: ${res.body}`)
  return res.json<MoodListResponse>()
}

/** Every entry, following nextCursor; `first` is the first page's query, `next` each later page's. */
async function walk (userId: string, first: string, next = first): Promise<MoodEntry[]> {
  const items: MoodEntry[] = []
  let query = first
  for (let pages = 0; pages < 50; pages++) {
    const answer = await page(userId, query)
    items.push(...answer.items)
    if (answer.nextCursor === null) return items
    query = `${next}&cursor=${answer.nextCursor}`
  }
  throw new Error('more than 50 pages')
}

/** 45 entries over March with gaps, and ties of loggedAt broken by id. */
async function history (userId: string): Promise<void> {
  for (let i = 0; i < 45; i++) {
    const day = 1 + ((i * 7) % 30)
    if (day % 9 === 0) continue
    await logMood(app, userId, { score: 1 + (i % 5), ...(i % 3 === 0 ? {} : { label: `l${i}` }), loggedAt: `2024-03-${String(day).padStart(2, '0')}T${i % 2 === 0 ? '08' : '20'}:00:00.${String(i).padStart(3, '0')}Z` })
    if (i % 10 === 0) await logMood(app, userId, { score: 5, loggedAt: `2024-03-${String(day).padStart(2, '0')}T08:00:00.${String(i).padStart(3, '0')}Z` })
  }
}

t.test('pages of the default size (prepared) and of any other size (planned per request) answer the same', async (t) => {
  const user = newUserId()
  await history(user)
  const byDefault = await walk(user, '')
  const explicit = await walk(user, 'limit=20')
  const small = await walk(user, 'limit=7')
  const mixed = await walk(user, '', 'limit=3')
  t.ok(byDefault.length > 40)
  t.same(explicit, byDefault, 'limit=20 is the default page')
  t.same(small, byDefault, 'pages of 7')
  t.same(mixed, byDefault, 'a cursor of a default page continues in pages of another size')
  t.same(await walk(user, 'from=2024-03-01&to=2024-03-31'), byDefault, 'and with from/to')
  const newestFirst = [...byDefault].sort((a, b) => a.loggedAt === b.loggedAt ? (a.id < b.id ? 1 : -1) : (a.loggedAt < b.loggedAt ? 1 : -1))
  t.same(byDefault.map((e) => e.id), newestFirst.map((e) => e.id), 'newest first, ties by id')

  const empty = await page(newUserId())
  t.same(empty, { items: [], nextCursor: null, streak: { current: 0, longest: 0 } }, 'a user without entries')
})

t.test('the first page is prepared, and Postgres keeps one plan for it', async (t) => {
  const user = newUserId()
  await history(user)
  // One connection, to look at the statements prepared on it.
  const pool = createPool({ url: databaseUrl, schema: MOOD_SCHEMA, poolMax: 1 })
  t.teardown(async () => pool.end())
  const run = poolRunner(pool)
  const list = pageReader(21)
  const expected = (await page(user, 'limit=20')).items
  for (let i = 0; i < 10; i++) {
    const { entries } = await list(run, user, '2024-03-31', { limit: 21 })
    t.same(entries.slice(0, 20), expected)
  }
  const { rows } = await pool.query<{ name: string, generic_plans: number }>('select name, generic_plans::int from pg_prepared_statements')
  const statement = rows.find((r) => r.name === 'mood_page_21')
  t.ok(statement, 'prepared on the connection')
  t.ok(statement!.generic_plans > 0, 'planned once, not on every run')
})

t.test('a migration that changes the type of a column the statements answer', async (t) => {
  const user = newUserId()
  await logMood(app, user, { score: 4, loggedAt: '2024-03-30T10:00:00Z' })
  // Prepare the statements on several connections of the app's pool.
  await Promise.all(Array.from({ length: 8 }, () => page(user)))
  await sql`alter table entries alter column score type integer`.execute(db)
  const answers = await Promise.all(Array.from({ length: 8 }, () => app.inject({ url: '/mood', headers: identity(user) })))
  t.same(answers.map((a) => a.statusCode), Array(8).fill(200), 'every request answers: stale prepared statements are replaced')
  t.same(answers.map((a) => a.json<MoodListResponse>().items.map((e) => e.score)), Array(8).fill([4]))
  const logged = await logMood(app, user, { score: 5, loggedAt: '2024-03-31T10:00:00Z' })
  t.match(logged, { entry: { score: 5, streak: 2 }, streak: { current: 2, longest: 2 } })
  t.same((await page(user)).items.map((e) => e.score), [5, 4])
})

t.test('after the streak tables are dropped and made again, the prepared statements read the new ones', async (t) => {
  const user = newUserId()
  for (const day of ['2024-03-29', '2024-03-30', '2024-03-31']) await logMood(app, user, { score: 3, loggedAt: `${day}T10:00:00Z` })
  await Promise.all(Array.from({ length: 4 }, () => page(user)))
  await db.transaction().execute(async (trx) => {
    await perStatementMigration.down(trx)
    await streakRunsMigration.down(trx)
  })
  await db.transaction().execute(async (trx) => {
    await streakRunsMigration.up(trx)
    await perStatementMigration.up(trx)
  })
  const answers = await Promise.all(Array.from({ length: 4 }, () => page(user)))
  t.same(answers.map((a) => a.streak), Array(4).fill({ current: 3, longest: 3 }), 'the runs backfilled by the migration')
  t.same(answers[0]!.items.map((e) => e.streak), [3, 2, 1])
  t.match(await logMood(app, user, { score: 3, loggedAt: '2024-03-28T10:00:00Z' }), { entry: { streak: 1 }, streak: { current: 4, longest: 4 } })
})

t.test('after its connections are cut, the pool prepares the statements again on new ones', async (t) => {
  const user = newUserId()
  await logMood(app, user, { score: 2, loggedAt: '2024-03-31T09:00:00Z' })
  await Promise.all(Array.from({ length: 4 }, () => page(user)))
  await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`.execute(db)
  // The pool learns of the cut when each idle connection reports its error; then every request works.
  let status = 0
  for (let i = 0; i < 50 && status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    status = (await app.inject({ url: '/mood', headers: identity(user) })).statusCode
  }
  t.equal(status, 200)
  const answers = await Promise.all(Array.from({ length: 6 }, () => page(user)))
  t.same(answers.map((a) => a.items.map((e) => e.score)), Array(6).fill([2]))
  t.match(await logMood(app, user, { score: 4, loggedAt: '2024-03-31T10:00:00Z' }), { entry: { streak: 1 }, streak: { current: 1, longest: 1 } })
})
