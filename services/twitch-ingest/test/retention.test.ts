import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { historySources, readHistory, runSnapshotRetention, type IngestDb } from '@pulse/ingest-kit'
import { createDatabase } from '@pulse/service-kit'
import { createTestDatabase } from '@pulse/testing'
import { FileMigrationProvider, Migrator, sql } from 'kysely'
import t from 'tap'
import { SCHEMA } from '../src/db/database.js'

// twitch-ingest's snapshots as they were before the retention migration, with rows: the migration
// keeps every row and column, and the roll-ups carry every Twitch metric.
const HOUR = 3600_000
const DAY = 24 * HOUR

t.test('the retention migration converts the snapshots of an existing deployment', async (t) => {
  const url = await createTestDatabase(t)
  const db = createDatabase({ url, schema: SCHEMA, poolMax: 1 })
  t.teardown(async () => { await db.destroy() })
  await sql`create schema ${sql.id(SCHEMA)}`.execute(db)
  const migrator = new Migrator({
    db,
    migrationTableSchema: SCHEMA,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: fileURLToPath(new URL('../src/db/migrations', import.meta.url)) })
  })
  const before = await migrator.migrateTo('2026-12-02T06-30_profiles_and_followers')
  t.equal(before.error, undefined)

  const now = Date.parse('2026-12-01T12:00:00Z')
  await sql`insert into snapshots (id, user_id, captured_at, followers, subscribers_total, subscriber_points, subscribers_tier1, subscribers_tier2, subscribers_tier3, followed_channels, video_count, video_views)
    select gen_random_uuid(), 'user-' || (n % 2), ${new Date(now)}::timestamptz - n * interval '15 minutes', 1000 + n, case when n % 5 = 0 then null else n end, n * 2, n, 0, 0, 7, 3, 50000 + n
    from generate_series(0, 4 * 24 * 10 - 1) n`.execute(db)
  const rows = (await sql`select * from snapshots order by id`.execute(db)).rows

  const after = await migrator.migrateToLatest()
  t.equal(after.error, undefined)
  t.same((await sql`select * from snapshots order by id`.execute(db)).rows, rows, 'every row and column kept')
  t.equal((await sql<{ relkind: string }>`select relkind from pg_class where oid = 'snapshots'::regclass`.execute(db)).rows[0]!.relkind, 'p')

  const run = await runSnapshotRetention(db, now + HOUR, { rawDays: 30, hourlyDays: 90 })
  const hours = (await sql<{ n: number }>`select count(distinct (user_id, date_trunc('hour', captured_at, 'UTC')))::int as n from snapshots`.execute(db)).rows[0]!.n
  t.ok(hours > 400)
  t.equal(run.hourlyRows, hours, 'an hourly row per user and hour')
  const last = (await sql<Record<string, unknown>>`select * from snapshots_hourly where user_id = 'user-0' order by bucket desc limit 1`.execute(db)).rows[0]!
  const lastRaw = (await sql<Record<string, unknown>>`select * from snapshots where user_id = 'user-0' order by captured_at desc limit 1`.execute(db)).rows[0]!
  for (const column of ['captured_at', 'followers', 'subscribers_total', 'subscriber_points', 'followed_channels', 'video_count', 'video_views']) {
    t.same(last[column], lastRaw[column], column)
  }
  const points = await readHistory(db as unknown as IngestDb, 'user-0', 'video_views', new Date(now - 9 * DAY), new Date(now), 500, historySources(now, { rawDays: 30, hourlyDays: 90 }))
  t.ok(points.length > 100 && points.at(-1)!.t.getTime() === now, 'history reads the converted table')
})
