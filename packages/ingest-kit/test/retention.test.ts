import { randomUUID } from 'node:crypto'
import { createDatabase } from '@pulse/service-kit'
import { sql, type Kysely } from 'kysely'
import t from 'tap'
import {
  deleteIngestRows, historySources, listSnapshotPartitions, pageUserSnapshots, readHistory, readOverview, runSnapshotRetention,
  snapshotAtOrBefore, weekStartOf, type IngestDb
} from '../src/index.js'
import { ingestSnapshotRetentionV1 } from '../src/migrations/core.js'
import { eventually } from '../src/testing/index.js'
import { buildFakeApp, startFakeWorld } from './fake-service.js'

const HOUR = 3600_000
const DAY = 24 * HOUR
const SETTINGS = { rawDays: 30, hourlyDays: 90 }
const COLUMNS = { followers: 'followers' }

const world = await startFakeWorld(t)
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the fake tables and the kit's roll-ups, by SQL
const db = world.db as unknown as Kysely<any>
const kit = world.db as unknown as IngestDb

/**
 * Raw snapshots of a user every 15 minutes in [from, to): followers is the snapshot's time in
 * minutes since the epoch, so every value says which snapshot it came from.
 */
async function seed (userId: string, from: number, to: number): Promise<void> {
  await sql`insert into snapshots (id, user_id, captured_at, followers)
    select gen_random_uuid(), ${userId}, t, (extract(epoch from t) / 60)::bigint
    from generate_series(${new Date(from)}::timestamptz, ${new Date(to - 1)}::timestamptz, interval '15 minutes') t`.execute(db)
}
const valueAt = (t: Date) => t.getTime() / 60_000

async function rows (table: string, userId: string): Promise<Array<{ bucket: Date, captured_at: Date, followers: string, id: string, xmin: string }>> {
  return (await sql<{ bucket: Date, captured_at: Date, followers: string, id: string, xmin: string }>`
    select bucket, captured_at, followers, id, xmin::text as xmin from ${sql.id(table)} where user_id = ${userId} order by bucket`.execute(db)).rows
}

/** A fresh state for each test: no snapshots, roll-ups, state or partitions left by another. */
async function reset (): Promise<void> {
  await sql`truncate snapshots, snapshots_hourly, snapshots_daily, snapshot_rollup_state`.execute(db)
  for (const week of await listSnapshotPartitions(db)) await sql`drop table ${sql.id(`snapshots_w${week.toISOString().slice(0, 10).replaceAll('-', '')}`)}`.execute(db)
}

t.test('the roll-ups keep the last snapshot of each hour and UTC day, exactly', async (t) => {
  await reset()
  const userId = randomUUID()
  const start = Date.parse('2026-06-10T00:00:00Z')
  await seed(userId, start, start + 3 * DAY)
  const now = start + 3 * DAY + 10 * 60_000
  const run = await runSnapshotRetention(db, now, SETTINGS)
  t.ok(run.ran)
  t.equal(run.hourlyRows, 72)
  t.equal(run.dailyRows, 3)

  const hourly = await rows('snapshots_hourly', userId)
  t.equal(hourly.length, 72)
  for (const [i, row] of hourly.entries()) {
    t.equal(row.bucket.getTime(), start + i * HOUR)
    t.equal(row.captured_at.getTime(), start + i * HOUR + 45 * 60_000, 'the hour\'s last snapshot')
    t.equal(Number(row.followers), valueAt(row.captured_at))
  }
  const daily = await rows('snapshots_daily', userId)
  t.same(daily.map((r) => [r.bucket.toISOString(), r.captured_at.toISOString(), Number(r.followers)]),
    [0, 1, 2].map((d) => {
      const last = new Date(start + (d + 1) * DAY - 15 * 60_000)
      return [new Date(start + d * DAY).toISOString(), last.toISOString(), valueAt(last)]
    }))
})

t.test('a re-run changes nothing; a later run adds only the new hours, a late snapshot included', async (t) => {
  await reset()
  const userId = randomUUID()
  const start = Date.parse('2026-06-10T00:00:00Z')
  await seed(userId, start, start + DAY)
  const now = start + DAY + 5 * 60_000
  await runSnapshotRetention(db, now, SETTINGS)
  const before = { hourly: await rows('snapshots_hourly', userId), daily: await rows('snapshots_daily', userId) }
  const again = await runSnapshotRetention(db, now, SETTINGS)
  t.equal(again.hourlyRows, 0, 'no row written')
  t.equal(again.dailyRows, 0)
  t.same(await rows('snapshots_hourly', userId), before.hourly, 'same rows, same row versions (xmin)')
  t.same(await rows('snapshots_daily', userId), before.daily)

  // A snapshot of the last rolled hour committed after the run, and two more hours.
  await sql`insert into snapshots (id, user_id, captured_at, followers) values (gen_random_uuid(), ${userId}, ${new Date(start + DAY - 60_000)}::timestamptz, 1)`.execute(db)
  await seed(userId, start + DAY, start + DAY + 2 * HOUR)
  const later = await runSnapshotRetention(db, start + DAY + 2 * HOUR, SETTINGS)
  t.equal(later.hourlyRows, 3, 'the late hour again, and the two new ones')
  const hourly = await rows('snapshots_hourly', userId)
  t.equal(hourly.length, 26)
  t.equal(Number(hourly[23]!.followers), 1, 'the late snapshot is the hour\'s last')
  t.same(hourly.slice(0, 23), before.hourly.slice(0, 23), 'older hours untouched')
  t.equal(Number((await rows('snapshots_daily', userId))[0]!.followers), 1, 'and the day\'s last')
})

t.test('two replicas: one runs the job, the other skips it; together the result is the same', async (t) => {
  await reset()
  const userId = randomUUID()
  const start = Date.parse('2026-06-10T00:00:00Z')
  await seed(userId, start, start + 2 * DAY)
  const now = start + 2 * DAY

  // Another replica in the middle of a run holds the lock.
  const other = createDatabase({ url: world.databaseUrl, schema: 'fake_ingest', poolMax: 1 })
  t.teardown(async () => { await other.destroy() })
  await other.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(hashtext(current_schema() || '.snapshot-retention'))`.execute(conn)
    const skipped = await runSnapshotRetention(db, now, SETTINGS)
    t.equal(skipped.ran, false, 'skipped while another replica runs it')
    t.equal((await rows('snapshots_hourly', userId)).length, 0)
    await sql`select pg_advisory_unlock(hashtext(current_schema() || '.snapshot-retention'))`.execute(conn)
  })

  const [a, b] = [await buildFakeApp(t, world), await buildFakeApp(t, world)]
  const runs = await Promise.all([a.snapshotRetention.run(), b.snapshotRetention.run(), a.snapshotRetention.run()])
  t.ok(runs.some((r) => r.ran))
  t.equal(runs.reduce((n, r) => n + r.hourlyRows, 0), 48, 'each hour rolled up once in all')
  t.equal((await rows('snapshots_hourly', userId)).length, 48)
  t.equal((await rows('snapshots_daily', userId)).length, 2)
})

t.test('raw weeks older than the window are dropped whole, expired hourly rows deleted, daily kept', async (t) => {
  await reset()
  const userId = randomUUID()
  const start = Date.parse('2026-03-02T00:00:00Z') // a Monday
  await seed(userId, start, start + 7 * DAY)
  t.ok((await sql<{ n: number }>`select count(*)::int as n from snapshots_default`.execute(db)).rows[0]!.n > 0, 'no partition of that week yet')

  const first = await runSnapshotRetention(db, start + 7 * DAY, SETTINGS)
  t.ok(first.partitionsCreated > 0)
  t.equal((await sql<{ n: number }>`select count(*)::int as n from snapshots_default`.execute(db)).rows[0]!.n, 0, 'moved into their week\'s partition')
  t.ok((await listSnapshotPartitions(db)).some((w) => w.getTime() === start))

  // 40 days on: the week ended 33 days ago, all of it older than 30 days.
  const later = start + 40 * DAY
  const dropped = await runSnapshotRetention(db, later, SETTINGS)
  t.ok(dropped.partitionsDropped >= 1)
  t.notOk((await listSnapshotPartitions(db)).some((w) => w.getTime() === start), 'the week\'s partition is gone')
  t.equal((await sql<{ n: number }>`select count(*)::int as n from snapshots where user_id = ${userId}`.execute(db)).rows[0]!.n, 0)
  t.equal((await rows('snapshots_hourly', userId)).length, 7 * 24, 'hourly roll-ups remain')
  t.ok((await listSnapshotPartitions(db)).every((w) => w.getTime() + 7 * DAY > later - 30 * DAY), 'no partition entirely older than the window')
  t.ok((await listSnapshotPartitions(db)).some((w) => w.getTime() >= weekStartOf(new Date(later + 3 * 7 * DAY)).getTime()), 'weeks ahead exist')

  // 100 days on: hourly rows older than 90 days go; daily rows stay.
  const expired = await runSnapshotRetention(db, start + 100 * DAY, SETTINGS)
  t.equal(expired.hourlyDeleted, 7 * 24)
  t.equal((await rows('snapshots_hourly', userId)).length, 0)
  t.equal((await rows('snapshots_daily', userId)).length, 7)
})

t.test('history and overview read raw, hourly and daily rows across the boundaries', async (t) => {
  await reset()
  const userId = randomUUID()
  const now = Date.parse('2026-06-15T12:05:00Z')
  const first = now - 200 * DAY
  // The job ran at each step of the past (partitions created, roll-ups made, old raw weeks dropped).
  for (let at = first; at < now; at += 50 * DAY) {
    await seed(userId, at, Math.min(at + 50 * DAY, now))
    await runSnapshotRetention(db, Math.min(at + 50 * DAY, now), SETTINGS)
  }
  await seed(userId, now, now + 1) // one more snapshot the job has not seen: read raw
  const raw = (await sql<{ oldest: Date }>`select min(captured_at) as oldest from snapshots where user_id = ${userId}`.execute(db)).rows[0]!.oldest
  t.ok(raw.getTime() > now - 38 * DAY && raw.getTime() <= now - 30 * DAY, 'raw kept for the window (and the rest of its oldest week)')

  const sources = historySources(now, SETTINGS)
  const read = async (days: number, maxPoints = 500) => await readHistory(kit, userId, 'followers', new Date(now - days * DAY), new Date(now), maxPoints, sources)
  for (const days of [1, 5, 20, 45, 120, 200]) {
    const points = await read(days)
    t.ok(points.length <= 500 && points.length > 20, `${days} days: ${points.length} points`)
    t.ok(points.every((p) => p.value === valueAt(p.t)), `${days} days: every point is a real snapshot`)
    t.ok(points.every((p, i) => i === 0 || p.t > points[i - 1]!.t), 'oldest first')
    t.equal(points.at(-1)!.t.getTime(), now, 'ends with the newest snapshot')
    t.ok(points[0]!.t.getTime() - (now - days * DAY) < DAY, `${days} days: starts at the range's start`)
  }
  t.equal((await read(1)).length, 97, 'a day: every raw snapshot (both ends included)')
  const fortyFive = await read(45)
  t.ok(fortyFive.filter((p) => p.t.getTime() < now - 30 * DAY).length > 100, '45 days: hourly points beyond the raw window')
  t.ok((await read(200)).filter((p) => p.t.getTime() < now - 90 * DAY).every((p) => p.t.getUTCHours() === 23 && p.t.getUTCMinutes() === 50), '200 days: daily points beyond the hourly window')

  // A range wholly beyond the raw window, with short buckets: hourly rows.
  const old = await readHistory(kit, userId, 'followers', new Date(now - 60 * DAY), new Date(now - 58 * DAY), 500, sources)
  t.equal(old.length, 48)
  // Raw only (no sources): nothing that old.
  t.equal((await readHistory(kit, userId, 'followers', new Date(now - 60 * DAY), new Date(now - 58 * DAY), 500)).length, 0)

  const overview = await readOverview(kit, userId, COLUMNS, now)
  t.equal(overview.latest!.capturedAt.getTime(), now)
  for (const [period, days] of [['1d', 1], ['7d', 7], ['30d', 30]] as const) {
    const change = overview.change[period]!
    t.equal(change.since.getTime(), now - days * DAY, `${period}: the raw snapshot at or before then`)
    t.equal(change.delta.followers, valueAt(new Date(now)) - valueAt(change.since))
  }
  const sixtyDays = await snapshotAtOrBefore(kit, userId, COLUMNS, new Date(now - 60 * DAY))
  t.ok(sixtyDays!.capturedAt.getTime() <= now - 60 * DAY && sixtyDays!.capturedAt.getTime() > now - 60 * DAY - HOUR, 'beyond the raw window: the hour\'s last snapshot before then')
  const yearAgo = await snapshotAtOrBefore(kit, userId, COLUMNS, new Date(now - 150 * DAY))
  t.ok(yearAgo!.capturedAt.getTime() <= now - 150 * DAY && yearAgo!.capturedAt.getTime() > now - 151 * DAY, 'beyond the hourly window: the day\'s')
  t.equal(await snapshotAtOrBefore(kit, userId, COLUMNS, new Date(first - 1)), undefined)
})

t.test('a data export pages through raw snapshots and roll-ups; a deletion removes them all', async (t) => {
  await reset()
  const userId = randomUUID()
  const start = Date.parse('2026-06-10T00:00:00Z')
  await seed(userId, start, start + 2 * DAY)
  await runSnapshotRetention(db, start + 2 * DAY, SETTINGS)
  const seen: Array<Record<string, unknown>> = []
  let cursor: string | undefined
  do {
    const page = await pageUserSnapshots(kit, userId, cursor, 50)
    seen.push(...page.records)
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  t.equal(seen.length, 192 + 48 + 2, 'every raw snapshot, hourly and daily row')
  t.equal(new Set(seen.map((r) => r.id)).size, seen.length, 'each once')
  t.equal(seen.filter((r) => r.rollup === 'hourly').length, 48)
  t.equal(seen.filter((r) => r.rollup === 'daily').length, 2)
  t.ok(seen.every((r) => !('user_id' in r)))

  await deleteIngestRows(kit, userId)
  for (const table of ['snapshots', 'snapshots_hourly', 'snapshots_daily']) {
    t.equal((await sql<{ n: number }>`select count(*)::int as n from ${sql.id(table)} where user_id = ${userId}`.execute(db)).rows[0]!.n, 0, table)
  }
})

t.test('the migration converts a plain snapshots table with rows, and back', async (t) => {
  const schema = 'retention_migration'
  await sql`create schema ${sql.id(schema)}`.execute(db)
  const own = createDatabase({ url: world.databaseUrl, schema, poolMax: 1 })
  t.teardown(async () => { await own.destroy() })
  await sql`create table snapshots (id uuid primary key, user_id text not null, captured_at timestamptz not null, followers bigint not null)`.execute(own)
  await sql`create index snapshots_user_captured on snapshots (user_id, captured_at desc)`.execute(own)
  await sql`insert into snapshots select gen_random_uuid(), 'u' || (n % 3), now() - n * interval '6 hours', n from generate_series(1, 400) n`.execute(own)
  const before = (await sql`select * from snapshots order by id`.execute(own)).rows

  await ingestSnapshotRetentionV1.up(own)
  t.same((await sql`select * from snapshots order by id`.execute(own)).rows, before, 'every row kept')
  const kind = await sql<{ relkind: string }>`select relkind from pg_class where oid = 'snapshots'::regclass`.execute(own)
  t.equal(kind.rows[0]!.relkind, 'p', 'partitioned')
  t.equal((await sql<{ n: number }>`select count(*)::int as n from snapshots_default`.execute(own)).rows[0]!.n, 0, 'every row in a week\'s partition')
  t.ok((await listSnapshotPartitions(own)).length >= 15, 'a partition for each week since the oldest row')

  await ingestSnapshotRetentionV1.down!(own)
  t.same((await sql`select * from snapshots order by id`.execute(own)).rows, before, 'and back')
  t.equal((await sql<{ relkind: string }>`select relkind from pg_class where oid = 'snapshots'::regclass`.execute(own)).rows[0]!.relkind, 'r')
})

t.test('each replica tries the job on its own timer when retention is enabled', async (t) => {
  await reset()
  const userId = randomUUID()
  const now = world.clock.now()
  await seed(userId, now - DAY, now)
  await buildFakeApp(t, world, { FAKE_RETENTION_ENABLED: 'true', FAKE_RETENTION_INTERVAL_S: '1' })
  t.ok(await eventually(async () => (await rows('snapshots_daily', userId)).length > 0), 'rolled up without being asked')
  t.ok((await rows('snapshots_hourly', userId)).length >= 23)
})
