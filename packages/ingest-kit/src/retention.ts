import { sql, type Kysely, type Transaction } from 'kysely'

/**
 * How snapshots are kept for years without the tables growing by a row per channel every 15 minutes:
 *
 * - `snapshots` (raw, one row per refresh) is range-partitioned by week on `captured_at`; a week's
 *   partition is dropped whole (no DELETE, no vacuum debt) once all of it is older than the raw window.
 * - `snapshots_hourly` and `snapshots_daily` hold the last snapshot of each hour / UTC day per user
 *   (every column of `snapshots`, so reads and the export use them like raw rows). They are filled
 *   continuously for every complete hour and day, not only for data leaving the raw window, so a
 *   long history range reads the coarse table everywhere. Hourly rows older than the hourly window
 *   are deleted; daily rows are kept for good.
 * - One job (`runSnapshotRetention`) does all of it, on one replica at a time (a Postgres advisory
 *   lock), and is idempotent: a re-run over the same hours writes the same rows, and rows whose
 *   values did not change are not rewritten.
 */

const HOUR_MS = 3600_000
const DAY_MS = 24 * HOUR_MS
const WEEK_MS = 7 * DAY_MS

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service types its own tables
type AnyDb = Kysely<any> | Transaction<any>

export interface RetentionSettings {
  /** Raw snapshots are kept at least this long (their week's partition goes when all of it is older). */
  rawDays: number
  /** Hourly roll-ups are kept this long; daily roll-ups for good. */
  hourlyDays: number
  /** Weekly partitions created ahead of now. */
  weeksAhead?: number
}

/** The partition of the week starting at `weekStart` (a Monday, UTC). */
export const partitionName = (weekStart: Date): string => `snapshots_w${weekStart.toISOString().slice(0, 10).replaceAll('-', '')}`

/** The Monday 00:00 UTC at or before `at`. */
export function weekStartOf (at: Date): Date {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()))
  const sinceMonday = (day.getUTCDay() + 6) % 7
  return new Date(day.getTime() - sinceMonday * DAY_MS)
}

const floorHour = (ms: number): Date => new Date(Math.floor(ms / HOUR_MS) * HOUR_MS)
const floorDay = (ms: number): Date => new Date(Math.floor(ms / DAY_MS) * DAY_MS)

/** The weekly partitions of `snapshots` there are, by week start (the default partition not included). */
export async function listSnapshotPartitions (db: AnyDb): Promise<Date[]> {
  const rows = await sql<{ name: string }>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'snapshots'::regclass and c.relname like 'snapshots_w%'`.execute(db)
  return rows.rows.map((r) => new Date(`${r.name.slice(11, 15)}-${r.name.slice(15, 17)}-${r.name.slice(17, 19)}T00:00:00Z`)).sort((a, b) => a.getTime() - b.getTime())
}

/**
 * Creates the week's partition if missing. Rows of that week that went to the default partition
 * (a clock ahead of the partitions made so far) move into it in the same transaction: Postgres
 * refuses to attach a range the default partition has rows of.
 */
export async function ensureSnapshotPartition (db: Kysely<any>, weekStart: Date): Promise<boolean> { // eslint-disable-line @typescript-eslint/no-explicit-any -- each service's own table
  const name = partitionName(weekStart)
  const end = new Date(weekStart.getTime() + WEEK_MS)
  const inTransaction = async (work: (trx: AnyDb) => Promise<boolean>) => db.isTransaction ? await work(db) : await db.transaction().execute(work)
  return await inTransaction(async (trx) => {
    const exists = await sql<{ found: boolean }>`select to_regclass(${name}) is not null as found`.execute(trx)
    if (exists.rows[0]!.found) return false
    await sql`create table ${sql.id(name)} (like snapshots including defaults including constraints)`.execute(trx)
    await sql`with moved as (delete from snapshots_default where captured_at >= ${weekStart}::timestamptz and captured_at < ${end}::timestamptz returning *)
      insert into ${sql.id(name)} select * from moved`.execute(trx)
    await sql`alter table snapshots attach partition ${sql.id(name)} for values from (${sql.lit(weekStart.toISOString())}) to (${sql.lit(end.toISOString())})`.execute(trx)
    return true
  })
}

/** Every week's partition from the week of `from` to `weeksAhead` weeks after `now`. */
export async function ensureSnapshotPartitions (db: Kysely<any>, from: Date, now: Date, weeksAhead: number): Promise<number> { // eslint-disable-line @typescript-eslint/no-explicit-any -- each service's own table
  let created = 0
  const last = weekStartOf(new Date(now.getTime() + weeksAhead * WEEK_MS))
  for (let week = weekStartOf(from); week.getTime() <= last.getTime(); week = new Date(week.getTime() + WEEK_MS)) {
    if (await ensureSnapshotPartition(db, week)) created++
  }
  return created
}

/** The columns of `snapshots` besides id, user_id and captured_at: the service's metrics. */
async function metricColumnsOf (db: AnyDb): Promise<string[]> {
  const rows = await sql<{ name: string }>`
    select attname as name from pg_attribute where attrelid = 'snapshots'::regclass and attnum > 0 and not attisdropped
      and attname not in ('id', 'user_id', 'captured_at') order by attnum`.execute(db)
  return rows.rows.map((r) => r.name)
}

/**
 * Turns a service's plain `snapshots` table (`id` primary key, `user_id`, `captured_at`, its metric
 * columns) into the partitioned one, rows included, and creates the roll-up tables and the job's
 * state. The primary key becomes `(id, captured_at)`: a partitioned table's key must hold the
 * partition key (ids stay unique: they are random uuids). Nothing references `snapshots` by key.
 */
export async function partitionSnapshotsTable (db: Kysely<any>, now: Date): Promise<void> { // eslint-disable-line @typescript-eslint/no-explicit-any -- each service's own table
  await sql`alter table snapshots rename to snapshots_unpartitioned`.execute(db)
  await sql`alter table snapshots_unpartitioned rename constraint snapshots_pkey to snapshots_unpartitioned_pkey`.execute(db)
  await sql`alter index if exists snapshots_user_captured rename to snapshots_unpartitioned_user_captured`.execute(db)
  await sql`create table snapshots (like snapshots_unpartitioned including defaults including constraints) partition by range (captured_at)`.execute(db)
  await sql`alter table snapshots add constraint snapshots_pkey primary key (id, captured_at)`.execute(db)
  await sql`create index snapshots_user_captured on snapshots (user_id, captured_at desc)`.execute(db)
  await sql`create table snapshots_default partition of snapshots default`.execute(db)

  const range = await sql<{ oldest: Date | null }>`select min(captured_at) as oldest from snapshots_unpartitioned`.execute(db)
  const oldest = range.rows[0]!.oldest ?? now
  await ensureSnapshotPartitions(db, oldest < now ? oldest : now, now, 4)
  await sql`insert into snapshots select * from snapshots_unpartitioned`.execute(db)
  await sql`drop table snapshots_unpartitioned`.execute(db)

  // The roll-ups: every column of snapshots (`id` is the roll-up row's own, stable per user and
  // bucket; `captured_at` is when the bucket's last snapshot was taken), plus the bucket's start.
  //
  // Their key covers what a history read and an overview take (`captured_at` and the metrics), so a
  // read of hundreds of a user's buckets is an index-only scan of a few pages instead of a heap page
  // per row (rows of one user are spread over the table, written an hour at a time for every user).
  // Index-only scans need the visibility map set: autovacuum visits these tables after a small share
  // of new rows (about a day's) rather than Postgres' default fifth of the table.
  const covered = sql.join(['captured_at', ...await metricColumnsOf(db)].map((c) => sql.id(c)))
  for (const table of ['snapshots_hourly', 'snapshots_daily']) {
    await sql`create table ${sql.id(table)} (like snapshots including defaults including constraints)`.execute(db)
    await sql`alter table ${sql.id(table)} add column bucket timestamptz not null`.execute(db)
    await sql`alter table ${sql.id(table)} add constraint ${sql.id(`${table}_pkey`)} primary key (user_id, bucket) include (${covered})`.execute(db)
    await sql`alter table ${sql.id(table)} set (autovacuum_vacuum_insert_scale_factor = 0.005, autovacuum_vacuum_scale_factor = 0.01)`.execute(db)
  }
  // Hourly rows are written in bucket order, so a BRIN index finds the expired ones for a fraction
  // of a B-tree's size.
  await sql`create index snapshots_hourly_bucket on snapshots_hourly using brin (bucket)`.execute(db)

  // How far the roll-ups are complete (the next run starts just before), kept across runs and replicas.
  await sql`create table snapshot_rollup_state (resolution text primary key check (resolution in ('hourly', 'daily')), rolled_until timestamptz not null)`.execute(db)
}

export interface RetentionRun {
  /** False when another replica was running it. */
  ran: boolean
  partitionsCreated: number
  partitionsDropped: number
  hourlyRows: number
  dailyRows: number
  hourlyDeleted: number
}

/**
 * The retention job: partitions ahead, hourly then daily roll-ups of every complete hour and day
 * since the last run (the hour/day before it again, for a snapshot committed late), expired raw
 * partitions and hourly rows deleted. Runs on one replica at a time: the others return `ran: false`.
 */
export async function runSnapshotRetention (db: Kysely<any>, nowMs: number, settings: RetentionSettings): Promise<RetentionRun> { // eslint-disable-line @typescript-eslint/no-explicit-any -- each service's own table
  const result: RetentionRun = { ran: false, partitionsCreated: 0, partitionsDropped: 0, hourlyRows: 0, dailyRows: 0, hourlyDeleted: 0 }
  // A session-level lock on one pooled connection, held for the whole run and released at its end
  // (or when the connection dies): a second replica's try fails at once and it skips this run.
  return await db.connection().execute(async (conn) => {
    const lock = await sql<{ locked: boolean }>`select pg_try_advisory_lock(hashtext(current_schema() || '.snapshot-retention')) as locked`.execute(conn)
    if (!lock.rows[0]!.locked) return result
    try {
      result.ran = true
      const now = new Date(nowMs)
      result.partitionsCreated = await ensureSnapshotPartitions(conn, new Date(nowMs - settings.rawDays * DAY_MS), now, settings.weeksAhead ?? 4)
      const columns = await metricColumnsOf(conn)

      // The job's statements may outlast the request-sized statement timeout of the pool (a catch-up
      // after downtime); each is a day at most, and the state moves on after each, so a run that
      // dies keeps what it did. RESET in the end returns the connection to the pool's setting.
      await sql`set statement_timeout = '10min'`.execute(conn)
      const hourlyUntil = floorHour(nowMs)
      const hourlyFrom = await rollupStart(conn, 'hourly', HOUR_MS, 'snapshots')
      for (let from = hourlyFrom; from !== undefined && from < hourlyUntil;) {
        const until = new Date(Math.min(from.getTime() + DAY_MS, hourlyUntil.getTime()))
        result.hourlyRows += await rollUp(conn, 'snapshots_hourly', 'snapshots', 'hour', columns, from, until)
        await setRolledUntil(conn, 'hourly', until)
        from = until
      }

      // Days from the hourly roll-ups: the last snapshot of a day is the last of its last hour. A
      // day is rolled again only when this run rolled (again) hours of it: mid-day, nothing to do.
      const dailyUntil = floorDay(nowMs)
      const dailyState = await rolledUntil(conn, 'daily')
      const dailyFrom = dailyState === undefined
        ? await rollupStart(conn, 'daily', DAY_MS, 'snapshots_hourly')
        : new Date(Math.min(dailyState.getTime(), floorDay((hourlyFrom ?? hourlyUntil).getTime()).getTime()))
      for (let from = dailyFrom; from !== undefined && from < dailyUntil;) {
        const until = new Date(Math.min(from.getTime() + DAY_MS, dailyUntil.getTime()))
        result.dailyRows += await rollUp(conn, 'snapshots_daily', 'snapshots_hourly', 'day', columns, from, until)
        await setRolledUntil(conn, 'daily', until)
        from = until
      }

      // A raw week goes once all of it is older than the window, and rolled up (always true after
      // the roll-up above, unless the clock went back).
      const rawBefore = Math.min(nowMs - settings.rawDays * DAY_MS, hourlyUntil.getTime())
      for (const week of await listSnapshotPartitions(conn)) {
        if (week.getTime() + WEEK_MS > rawBefore) continue
        await sql`drop table ${sql.id(partitionName(week))}`.execute(conn)
        result.partitionsDropped++
      }
      // Stray rows in the default partition that old go the same way.
      await sql`delete from snapshots_default where captured_at < ${new Date(weekStartOf(new Date(rawBefore)))}::timestamptz`.execute(conn)
      const deleted = await sql`delete from snapshots_hourly where bucket < ${floorHour(nowMs - settings.hourlyDays * DAY_MS)}::timestamptz`.execute(conn)
      result.hourlyDeleted = Number(deleted.numAffectedRows ?? 0)
      return result
    } finally {
      await sql`reset statement_timeout`.execute(conn)
      await sql`select pg_advisory_unlock(hashtext(current_schema() || '.snapshot-retention'))`.execute(conn)
    }
  })
}

async function rolledUntil (db: AnyDb, resolution: 'hourly' | 'daily'): Promise<Date | undefined> {
  const state = await sql<{ rolled_until: Date }>`select rolled_until from snapshot_rollup_state where resolution = ${resolution}`.execute(db)
  return state.rows[0]?.rolled_until
}

/** Where a roll-up resumes: one bucket before where it stopped, or the oldest source row's bucket. */
async function rollupStart (db: AnyDb, resolution: 'hourly' | 'daily', bucketMs: number, source: string): Promise<Date | undefined> {
  const until = await rolledUntil(db, resolution)
  if (until !== undefined) return new Date(until.getTime() - bucketMs)
  const oldest = await sql<{ t: Date | null }>`select min(captured_at) as t from ${sql.id(source)}`.execute(db)
  const t = oldest.rows[0]!.t
  return t === null ? undefined : new Date(Math.floor(t.getTime() / bucketMs) * bucketMs)
}

async function setRolledUntil (db: AnyDb, resolution: 'hourly' | 'daily', until: Date): Promise<void> {
  await sql`insert into snapshot_rollup_state (resolution, rolled_until) values (${resolution}, ${until}::timestamptz)
    on conflict (resolution) do update set rolled_until = greatest(snapshot_rollup_state.rolled_until, excluded.rolled_until)`.execute(db)
}

/**
 * The last row of each user and bucket of `source` in [from, until) into `target`. A bucket's row
 * is replaced only when its last snapshot changed, so a re-run rewrites nothing.
 */
async function rollUp (db: AnyDb, target: string, source: string, unit: 'hour' | 'day', columns: string[], from: Date, until: Date): Promise<number> {
  const cols = sql.join(columns.map((c) => sql.id(c)))
  const sets = sql.join(['captured_at', ...columns].map((c) => sql`${sql.id(c)} = excluded.${sql.id(c)}`))
  const result = await sql`
    insert into ${sql.id(target)} (id, user_id, captured_at, ${cols}, bucket)
    select md5(${sql.lit(unit)} || ':' || user_id || ':' || extract(epoch from b)::bigint::text)::uuid, user_id, captured_at, ${cols}, b from (
      select distinct on (user_id, b) user_id, captured_at, ${cols}, date_trunc(${sql.lit(unit)}, captured_at, 'UTC') as b from ${sql.id(source)}
      where captured_at >= ${from}::timestamptz and captured_at < ${until}::timestamptz
      order by user_id, b, captured_at desc
    ) last
    on conflict (user_id, bucket) do update set ${sets}
    where ${sql.id(target)}.captured_at is distinct from excluded.captured_at`.execute(db)
  return Number(result.numAffectedRows ?? 0)
}

/** Where each source of a history is read from, for reads at time `now`. */
export interface HistorySources {
  /** Raw snapshots are read from here on. */
  rawFrom: Date
  /** Hourly roll-ups from here on (before: daily). */
  hourlyFrom: Date
}

export function historySources (nowMs: number, settings: RetentionSettings): HistorySources {
  return { rawFrom: new Date(nowMs - settings.rawDays * DAY_MS), hourlyFrom: new Date(nowMs - settings.hourlyDays * DAY_MS) }
}
