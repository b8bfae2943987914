import assert from 'node:assert/strict'
import { sql } from 'kysely'
import fc from 'fast-check'
import t from 'tap'
import type { MoodListResponse } from '@pulse/contracts'
import { createDatabase } from '@pulse/service-kit'
import { createTestDatabase } from '@pulse/testing'
import { MOOD_SCHEMA, type Database } from '../src/db/database.js'
import * as entriesMigration from '../src/db/migrations/2026-11-22T01-00_entries.js'
import * as streakRunsMigration from '../src/db/migrations/2026-11-22T02-00_streak_runs.js'
import * as perStatementMigration from '../src/db/migrations/2026-11-22T03-00_streak_runs_per_statement.js'
import { build, expectedStreaks, identity, logMood, newUserId, storedStreaks, TestClock } from './helper.js'

// The runs of consecutive days that streaks are read from: kept in the same transaction as every
// write to entries, one user's writes serialised, backfilled by their migration.
const clock = new TestClock(Date.parse('2024-03-31T12:00:00Z'))
const { app, db } = await build(t, { clock })

const march = (n: number): string => `2024-03-${String(n).padStart(2, '0')}`

/** A copy in random order (Fisher–Yates). */
function shuffled<T> (items: readonly T[]): T[] {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy
}

t.test('concurrent POSTs of adjacent days for one user leave one run and the right streak', async (t) => {
  clock.set('2024-03-31T12:00:00Z')
  const user = newUserId()
  // March 1 to 30, each day twice, all at once in random order.
  const days = shuffled([...Array.from({ length: 30 }, (_, i) => march(i + 1)), ...Array.from({ length: 30 }, (_, i) => march(i + 1))])
  const answers = await Promise.all(days.map((day, i) =>
    app.inject({ method: 'POST', url: '/mood', headers: identity(user), payload: { score: 1 + (i % 5), loggedAt: `${day}T10:00:00Z` } })))
  t.same(answers.map((a) => a.statusCode), days.map(() => 201), 'every POST logged its entry')

  t.same(await storedStreaks(db, user), { runs: [['2024-03-01', '2024-03-30']], longest: 30 }, 'one run of thirty days')
  const res = await app.inject({ url: '/mood?limit=100', headers: identity(user) })
  const body = res.json<MoodListResponse>()
  t.same(body.streak, { current: 30, longest: 30 })
  t.same(new Set(body.items.map((e) => `${e.day}:${e.streak}`)).size, 30)
  t.ok(body.items.every((e) => e.streak === Number(e.day.slice(8))), 'the entries of March n have streak n')
})

t.test('concurrent POSTs and DELETEs of neighbouring days for one user keep the runs equal to the entries', async (t) => {
  clock.set('2024-03-31T12:00:00Z')
  const user = newUserId()
  // Two entries on each odd day and one on each even day, then at once: delete every entry of
  // the odd days, log the odd days again, and delete the even days' entries.
  const odd = Array.from({ length: 10 }, (_, i) => march(2 * i + 1))
  const even = Array.from({ length: 10 }, (_, i) => march(2 * i + 2))
  const first = await Promise.all([...odd, ...odd, ...even].map((day) => logMood(app, user, { score: 3, loggedAt: `${day}T08:00:00Z` })))
  t.same(await storedStreaks(db, user), { runs: [['2024-03-01', '2024-03-20']], longest: 20 })

  const writes = shuffled([
    ...first.filter((a) => odd.includes(a.entry.day) || even.includes(a.entry.day)).map((a) => () =>
      app.inject({ method: 'DELETE', url: `/mood/${a.entry.id}`, headers: identity(user) })),
    ...odd.map((day) => () => app.inject({ method: 'POST', url: '/mood', headers: identity(user), payload: { score: 4, loggedAt: `${day}T20:00:00Z` } }))
  ])
  const answers = await Promise.all(writes.map(async (write) => write()))
  t.ok(answers.every((a) => a.statusCode === 204 || a.statusCode === 201), 'every write succeeded')

  const stored = await storedStreaks(db, user)
  t.same(stored, await expectedStreaks(db, user), 'the runs are those of the entries left')
  t.same(stored.runs, odd.map((day) => [day, day]), 'only the odd days, each a run of its own')
  t.equal(stored.longest, 1)
})

t.test('moving entries between days with PATCH splits and joins runs', async (t) => {
  clock.set('2024-03-31T12:00:00Z')
  const user = newUserId()
  const logged = []
  for (const n of [1, 2, 3, 4, 5]) logged.push(await logMood(app, user, { score: 3, loggedAt: `${march(n)}T10:00:00Z` }))
  const move = async (id: string, loggedAt: string) => {
    const res = await app.inject({ method: 'PATCH', url: `/mood/${id}`, headers: identity(user), payload: { loggedAt } })
    t.equal(res.statusCode, 200)
    return res.json()
  }
  const split = await move(logged[2]!.entry.id, `${march(8)}T10:00:00Z`)
  t.same(await storedStreaks(db, user), { runs: [[march(1), march(2)], [march(4), march(5)], [march(8), march(8)]], longest: 2 })
  t.same(split.streak, { current: 0, longest: 2 })
  const joined = await move(logged[2]!.entry.id, `${march(3)}T22:00:00Z`)
  t.same(await storedStreaks(db, user), { runs: [[march(1), march(5)]], longest: 5 })
  t.equal(joined.entry.streak, 3)
  await move(logged[2]!.entry.id, `${march(3)}T05:00:00Z`)
  t.same(await storedStreaks(db, user), { runs: [[march(1), march(5)]], longest: 5 }, 'a move within the day changes nothing')
})

t.test('writes straight to the table (imports, fixtures) keep the runs too', async (t) => {
  const user = newUserId()
  const other = newUserId()
  await sql`
    insert into entries (user_id, score, logged_at, day, timezone)
    select ${user}, 3, d + time '12:00', d, 'UTC'
    from generate_series(date '2020-01-01', date '2020-12-31', interval '1 day') as d
    where extract(day from d) <> 15
    union all select ${other}, 3, timestamptz '2020-06-15T12:00:00Z', date '2020-06-15', 'UTC'
  `.execute(db)
  let stored = await storedStreaks(db, user)
  t.equal(stored.runs.length, 13, 'the 15th of every month breaks the year into thirteen runs')
  t.same(stored, await expectedStreaks(db, user))
  t.same(await storedStreaks(db, other), { runs: [['2020-06-15', '2020-06-15']], longest: 1 })

  await sql`update entries set day = day + 14, logged_at = logged_at + interval '14 days' where user_id = ${user} and day between '2020-03-01' and '2020-03-05'`.execute(db)
  await sql`delete from entries where user_id = ${user} and day >= '2020-07-01'`.execute(db)
  stored = await storedStreaks(db, user)
  t.same(stored, await expectedStreaks(db, user), 'several rows moved, then half a year deleted, in one statement each')
  t.equal(stored.longest, 40, 'March 1-5 moved to March 15-19 fill the 15th: March 6 to April 14')
})

t.test('statements that write many entries of several users at once keep every user\'s runs (random bulk writes)', async (t) => {
  // Many days within twenty-five, so that the islands of a statement join, split, shrink and swallow runs.
  const day = (n: number): string => new Date(Date.UTC(2023, 0, 1 + n)).toISOString().slice(0, 10)
  const dayOffsets = fc.uniqueArray(fc.integer({ min: 0, max: 24 }), { minLength: 3, maxLength: 20 })
  const statement = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), user: fc.nat(2), days: dayOffsets }),
    fc.record({ kind: fc.constant('delete' as const), user: fc.nat(2), days: dayOffsets }),
    fc.record({ kind: fc.constant('move' as const), user: fc.nat(2), days: dayOffsets, by: fc.integer({ min: -3, max: 3 }) }),
    fc.record({ kind: fc.constant('score' as const), user: fc.nat(2) })
  )
  await fc.assert(fc.asyncProperty(fc.array(statement, { minLength: 1, maxLength: 12 }), async (statements) => {
    const users = [newUserId(), newUserId(), newUserId()]
    for (const st of statements) {
      const user = users[st.user]!
      if (st.kind === 'insert') {
        // Two users in one statement: the first as asked, the next one a day later.
        const other = users[(st.user + 1) % users.length]!
        const rows = st.days.flatMap((n) => [
          { user_id: user, score: 3, logged_at: new Date(`${day(n)}T12:00:00Z`), day: day(n), timezone: 'UTC' },
          { user_id: other, score: 3, logged_at: new Date(`${day(n + 1)}T12:00:00Z`), day: day(n + 1), timezone: 'UTC' }
        ])
        if (rows.length > 0) await db.insertInto('entries').values(rows).execute()
      } else if (st.kind === 'delete') {
        await db.deleteFrom('entries').where('user_id', '=', user).where(sql<boolean>`day = any(${st.days.map(day)}::date[])`).execute()
      } else if (st.kind === 'move') {
        await db.updateTable('entries').set({ day: sql`day + ${st.by}::int`, logged_at: sql`logged_at + make_interval(days => ${st.by}::int)` })
          .where('user_id', '=', user).where(sql<boolean>`day = any(${st.days.map(day)}::date[])`).execute()
      } else {
        await db.updateTable('entries').set({ score: 5 }).where('user_id', '=', user).execute()
      }
      for (const u of users) {
        const [stored, expected] = [await storedStreaks(db, u), await expectedStreaks(db, u)]
        assert.deepEqual(stored.runs, expected.runs, `runs after ${st.kind}`)
        assert.equal(stored.longest ?? 0, expected.longest, `longest after ${st.kind}`)
      }
    }
  }), { numRuns: 40 })
  t.pass('40 random sequences of bulk statements keep the runs equal to the entries')
})

t.test('the migrations backfill the runs of entries stored before them, keep them, and go back down', async (t) => {
  const url = await createTestDatabase(t)
  const raw = createDatabase<Database>({ url, schema: MOOD_SCHEMA, poolMax: 1 })
  t.teardown(async () => raw.destroy())
  await sql`create schema ${sql.id(MOOD_SCHEMA)}`.execute(raw)
  await raw.transaction().execute(async (trx) => entriesMigration.up(trx))

  const users = [newUserId(), newUserId(), newUserId()]
  const history: Array<[string, string[]]> = [
    [users[0]!, ['2024-03-01', '2024-03-02', '2024-03-02', '2024-03-03', '2024-03-05', '2023-12-31', '2024-01-01']],
    [users[1]!, ['2024-02-29']],
    [users[2]!, Array.from({ length: 400 }, (_, i) => new Date(Date.UTC(2023, 0, 1 + i)).toISOString().slice(0, 10)).filter((d) => d !== '2023-06-01')]
  ]
  for (const [user, days] of history) {
    await raw.insertInto('entries')
      .values(days.map((day) => ({ user_id: user, score: 3, logged_at: new Date(`${day}T12:00:00Z`), day, timezone: 'UTC' })))
      .execute()
  }
  await raw.transaction().execute(async (trx) => streakRunsMigration.up(trx))
  const backfilled = {
    0: { runs: [['2023-12-31', '2024-01-01'], ['2024-03-01', '2024-03-03'], ['2024-03-05', '2024-03-05']], longest: 3 },
    1: { runs: [['2024-02-29', '2024-02-29']], longest: 1 },
    2: { runs: [['2023-01-01', '2023-05-31'], ['2023-06-02', '2024-02-04']], longest: 248 }
  }
  for (const i of [0, 1, 2] as const) t.same(await storedStreaks(raw, users[i]!), backfilled[i], `user ${i} backfilled`)

  await raw.transaction().execute(async (trx) => perStatementMigration.up(trx))
  for (const i of [0, 1, 2] as const) t.same(await storedStreaks(raw, users[i]!), backfilled[i], `user ${i} unchanged by the switch to statement triggers`)

  // A session whose search_path does not include the service's schema (as a script or psql would).
  await sql`set search_path = public`.execute(raw)
  await sql`insert into mood.entries (user_id, score, logged_at, day, timezone) values (${users[0]}, 3, '2024-03-04T12:00:00Z', '2024-03-04', 'UTC')`.execute(raw)
  await sql`delete from mood.entries where user_id = ${users[2]} and day = '2023-06-02'`.execute(raw)
  await sql`set search_path = ${sql.id(MOOD_SCHEMA)}`.execute(raw)
  t.same(await storedStreaks(raw, users[0]!), { runs: [['2023-12-31', '2024-01-01'], ['2024-03-01', '2024-03-05']], longest: 5 })
  t.same(await storedStreaks(raw, users[2]!), { runs: [['2023-01-01', '2023-05-31'], ['2023-06-03', '2024-02-04']], longest: 247 })

  // Down to the row-level triggers: the runs are rebuilt from the entries, and kept by them.
  await raw.transaction().execute(async (trx) => perStatementMigration.down(trx))
  for (const user of users) t.same(await storedStreaks(raw, user), await expectedStreaks(raw, user), 'rebuilt from the entries')
  await sql`delete from entries where user_id = ${users[0]} and day = '2024-03-03'`.execute(raw)
  t.same(await storedStreaks(raw, users[0]!), { runs: [['2023-12-31', '2024-01-01'], ['2024-03-01', '2024-03-02'], ['2024-03-04', '2024-03-05']], longest: 2 })

  await sql`truncate entries`.execute(raw)
  t.same(await storedStreaks(raw, users[0]!), { runs: [], longest: null }, 'truncating the entries empties the runs')

  await raw.transaction().execute(async (trx) => streakRunsMigration.down(trx))
  const left = await sql<{ name: string | null }>`select to_regclass('streak_runs')::text as name union all select to_regclass('user_streaks')::text`.execute(raw)
  t.same(left.rows, [{ name: null }, { name: null }], 'down drops the tables')
  await raw.insertInto('entries').values({ user_id: users[0]!, score: 3, logged_at: new Date(), day: '2024-03-04', timezone: 'UTC' }).execute()
  t.pass('and the triggers: entries can be written without them')
})
