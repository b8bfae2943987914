// `pnpm bench history`: what a year of snapshots of 10,000 channels costs once the retention job
// keeps it (raw weeks for the raw window, hourly roll-ups for the hourly window, daily ones before),
// and how fast history and overview reads of it are.
//
// The data is generated in SQL (generate_series) straight into twitch-ingest's tables (its
// migrations, so its metric columns), in the shape the retention leaves right after a run: raw
// snapshots every refresh interval from the start of the week the raw window begins in, hourly
// roll-ups of the hourly window and daily roll-ups of the whole year; rows in time order, channels
// interleaved, as refreshes write them. A year fully raw is measured on a sample of channels and
// scaled to the channel count (a year raw for every channel would not fit the machine's time).
//
// Reads go through the kit's own functions (readHistory with the sources the route uses, readOverview)
// on one pooled connection, one at a time, for random channels, against the same reads of a channel
// with one day of history.
import path from 'node:path'
import {
  ensureSnapshotPartitions, historySources, readHistory, readOverview, runSnapshotRetention, weekStartOf, type IngestDb, type RetentionSettings
} from '@pulse/ingest-kit'
import { createDatabase, migrateToLatest } from '@pulse/service-kit'
import { sql, type Kysely } from 'kysely'
import { databaseUrl, dropDatabase } from './lib/database.js'
import { ROOT } from './lib/processes.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

export const HISTORY_CHANNELS = Number(process.env.BENCH_HISTORY_CHANNELS ?? 10_000)
export const HISTORY_READS = Number(process.env.BENCH_HISTORY_READS ?? 1000)
/** Channels whose year is also generated fully raw, for the comparison. */
export const HISTORY_RAW_SAMPLE = Number(process.env.BENCH_HISTORY_RAW_SAMPLE ?? 100)
const DATABASE_NAME = process.env.BENCH_HISTORY_DATABASE ?? 'pulse_bench_history'
const SCHEMA = 'twitch_ingest'
/** The kit's defaults: TWITCH_REFRESH_INTERVAL_S, _SNAPSHOT_RAW_DAYS, _SNAPSHOT_HOURLY_DAYS, _HISTORY_MAX_POINTS. */
const REFRESH_INTERVAL_MS = 900 * 1000
const SETTINGS: RetentionSettings = { rawDays: 30, hourlyDays: 90 }
const MAX_POINTS = 500
const COLUMNS = { followers: 'followers', subscribers: 'subscribers_total', videoViews: 'video_views' }

export interface Latency { p50Ms: number, p99Ms: number, maxMs: number }
export interface ReadRow { read: string, year: Latency, oneDay: Latency, points: number }
export interface TableSize { table: string, rows: number, bytes: number }
export interface HistoryResult {
  channels: number
  now: Date
  generateSeconds: number
  tables: TableSize[]
  /** pg_total_relation_size of every snapshot table (raw partitions, roll-ups) ÷ channels. */
  bytesPerChannelYear: number
  /** The same for a year fully raw, from the sample. */
  rawBytesPerChannelYear: number
  rawSampleChannels: number
  reads: ReadRow[]
  readsPerRow: number
  jobs: Array<{ what: string, ms: number, detail: string }>
}

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6
const round = (x: number) => Math.round(x * 100) / 100

function latency (samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
  return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(sorted.at(-1)!) }
}

/** The user id of channel `n` (1-based), as SQL and as text: stable, so reads pick channels by number. */
const channelId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`
const channelIdSql = (n: ReturnType<typeof sql>) => sql`'00000000-0000-4000-8000-' || lpad(to_hex(${n}), 12, '0')`

/**
 * The metric columns of a twitch-ingest snapshot of channel `c` at `t`: counts that grow with time
 * (and a few nulls where Twitch answers nothing), different per channel.
 */
const metricValues = (c: ReturnType<typeof sql>, t: ReturnType<typeof sql>) => sql`
  (${c} * 1000 + extract(epoch from ${t})::bigint / 3600)::bigint,
  case when ${c} % 3 = 0 then null else (${c} % 500 + extract(epoch from ${t})::bigint / 86400 % 50)::bigint end,
  case when ${c} % 3 = 0 then null else (${c} % 700)::bigint end,
  case when ${c} % 3 = 0 then null else (${c} % 400)::bigint end,
  case when ${c} % 3 = 0 then null else (${c} % 60)::bigint end,
  case when ${c} % 3 = 0 then null else (${c} % 20)::bigint end,
  (${c} % 300)::bigint,
  (${c} % 900 + extract(epoch from ${t})::bigint / 604800)::bigint,
  (${c} * 50000 + extract(epoch from ${t})::bigint / 60)::bigint`
const METRIC_COLUMN_LIST = sql`followers, subscribers_total, subscriber_points, subscribers_tier1, subscribers_tier2, subscribers_tier3, followed_channels, video_count, video_views`

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- twitch-ingest's tables, by SQL
type Db = Kysely<any>

/** Raw snapshots of channels [first, last] every refresh interval in [from, to), time-ordered. */
async function insertRaw (db: Db, table: string, first: number, last: number, from: Date, to: Date): Promise<void> {
  await sql`insert into ${sql.id(table)} (id, user_id, captured_at, ${METRIC_COLUMN_LIST})
    select gen_random_uuid(), ${channelIdSql(sql`c`)}, t, ${metricValues(sql`c`, sql`t`)}
    from generate_series(${from}::timestamptz, ${new Date(to.getTime() - 1)}::timestamptz, ${`${REFRESH_INTERVAL_MS / 1000} seconds`}::interval) t,
      generate_series(${first}::int, ${last}::int) c
    order by t, c`.execute(db)
}

/**
 * Roll-up rows of channels [first, last] for every `unit` bucket in [from, to), as the job writes
 * them: the bucket's last snapshot (`captured_at` one refresh interval before the bucket's end).
 */
async function insertRollups (db: Db, table: string, unit: 'hour' | 'day', first: number, last: number, from: Date, to: Date): Promise<void> {
  const step = unit === 'hour' ? HOUR : DAY
  await sql`insert into ${sql.id(table)} (id, user_id, captured_at, ${METRIC_COLUMN_LIST}, bucket)
    select md5(${unit} || ':' || ${channelIdSql(sql`c`)} || ':' || extract(epoch from b)::bigint::text)::uuid, ${channelIdSql(sql`c`)}, lt, ${metricValues(sql`c`, sql`lt`)}, b
    from generate_series(${from}::timestamptz, ${new Date(to.getTime() - step)}::timestamptz, ${`1 ${unit}`}::interval) b
      cross join lateral (select b + ${`${step - REFRESH_INTERVAL_MS} milliseconds`}::interval as lt) l,
      generate_series(${first}::int, ${last}::int) c
    order by b, c`.execute(db)
}

async function sizes (db: Db, tables: string[]): Promise<TableSize[]> {
  const out: TableSize[] = []
  for (const table of tables) {
    const r = await sql<{ rows: string, bytes: string }>`
      select (select count(*) from ${sql.id(table)}) as rows,
        (select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c
          where c.oid = ${table}::regclass or c.oid in (select inhrelid from pg_inherits where inhparent = ${table}::regclass)) as bytes`.execute(db)
    out.push({ table, rows: Number(r.rows[0]!.rows), bytes: Number(r.rows[0]!.bytes) })
  }
  return out
}

/** Drops the tables' primary keys and indexes; answers the statements that make them again. */
async function dropKeysAndIndexes (db: Db, tables: string[]): Promise<string[]> {
  const again: string[] = []
  for (const table of tables) {
    const keys = await sql<{ name: string, def: string }>`
      select conname as name, pg_get_constraintdef(oid) as def from pg_constraint where conrelid = ${table}::regclass and contype = 'p'`.execute(db)
    const indexes = await sql<{ name: string, def: string }>`
      select i.relname as name, pg_get_indexdef(i.oid) as def from pg_index x join pg_class i on i.oid = x.indexrelid
      where x.indrelid = ${table}::regclass and not x.indisprimary`.execute(db)
    for (const key of keys.rows) {
      await sql`alter table ${sql.id(table)} drop constraint ${sql.id(key.name)}`.execute(db)
      again.push(`alter table "${table}" add constraint "${key.name}" ${key.def}`)
    }
    for (const index of indexes.rows) {
      await sql`drop index ${sql.id(index.name)}`.execute(db)
      // A partitioned table's index is defined ON ONLY the parent; made again for every partition.
      again.push(index.def.replace(' ON ONLY ', ' ON '))
    }
  }
  return again
}

/** The time of `fn`, `n` times, each for a random channel of the year (or the one-day channel). */
async function timeReads (n: number, pick: () => string, fn: (userId: string) => Promise<number>): Promise<{ latency: Latency, points: number }> {
  const samples: number[] = []
  let points = 0
  for (let i = 0; i < n; i++) {
    const userId = pick()
    const start = process.hrtime.bigint()
    points = Math.max(points, await fn(userId))
    samples.push(ms(start))
  }
  return { latency: latency(samples), points }
}

export async function benchHistory (log: (line: string) => void = console.log): Promise<HistoryResult> {
  const channels = HISTORY_CHANNELS
  const url = databaseUrl(DATABASE_NAME)
  await dropDatabase(DATABASE_NAME)
  await migrateToLatest({ url, schema: SCHEMA, folder: path.join(ROOT, 'services/twitch-ingest/src/db/migrations') })
  const db: Db = createDatabase({ url, schema: SCHEMA, poolMax: 1 })
  try {
    // Now: the last complete refresh window; the job ran at the last full hour.
    const nowMs = Math.floor(Date.now() / REFRESH_INTERVAL_MS) * REFRESH_INTERVAL_MS
    const now = new Date(nowMs)
    const lastHour = new Date(Math.floor(nowMs / HOUR) * HOUR)
    const today = new Date(Math.floor(nowMs / DAY) * DAY)
    const yearStart = new Date(today.getTime() - 365 * DAY)
    const rawFrom = weekStartOf(new Date(nowMs - SETTINGS.rawDays * DAY))
    const hourlyFrom = new Date(Math.floor((nowMs - SETTINGS.hourlyDays * DAY) / HOUR) * HOUR)

    const generating = process.hrtime.bigint()
    /** The channel with one day of history. */
    const fresh = channels + 1
    // Generated on one connection with room to sort and build indexes in memory (the reads later
    // run with the server's settings).
    await db.connection().execute(async (conn) => {
      await sql`set work_mem = '512MB'`.execute(conn)
      await sql`set maintenance_work_mem = '1GB'`.execute(conn)
      await ensureSnapshotPartitions(conn, rawFrom, now, 4)
      // Keys and indexes are built after the rows (as a restore does): the same ones, as the
      // migrations define them, made faster.
      const keys = await dropKeysAndIndexes(conn, ['snapshots', 'snapshots_hourly', 'snapshots_daily'])
      log(`history: ${channels} channels, raw from ${rawFrom.toISOString()}, hourly from ${hourlyFrom.toISOString()}, daily from ${yearStart.toISOString()}, now ${now.toISOString()}`)
      // A week at a time, so no statement holds millions of rows to sort at once.
      for (let week = rawFrom.getTime(); week < nowMs; week += 7 * DAY) {
        await insertRaw(conn, 'snapshots', 1, channels, new Date(week), new Date(Math.min(week + 7 * DAY, nowMs + 1)))
      }
      log('history: raw snapshots generated')
      for (let week = hourlyFrom.getTime(); week < lastHour.getTime(); week += 7 * DAY) {
        await insertRollups(conn, 'snapshots_hourly', 'hour', 1, channels, new Date(week), new Date(Math.min(week + 7 * DAY, lastHour.getTime())))
      }
      await insertRollups(conn, 'snapshots_daily', 'day', 1, channels, yearStart, today)
      await sql`insert into snapshot_rollup_state (resolution, rolled_until) values ('hourly', ${lastHour}::timestamptz), ('daily', ${today}::timestamptz)`.execute(conn)
      log('history: roll-ups generated')
      for (const statement of keys) await sql.raw(statement).execute(conn)
      // The one-day channel: a day of raw snapshots, rolled up like the rest.
      await insertRaw(conn, 'snapshots', fresh, fresh, new Date(nowMs - DAY), new Date(nowMs + 1))
      await insertRollups(conn, 'snapshots_hourly', 'hour', fresh, fresh, new Date(lastHour.getTime() - 24 * HOUR), lastHour)
      await insertRollups(conn, 'snapshots_daily', 'day', fresh, fresh, new Date(today.getTime() - DAY), today)
      await sql`vacuum analyze`.execute(conn)
    })
    const generateSeconds = Math.round(ms(generating) / 100) / 10
    log(`history: generated in ${generateSeconds} s`)

    const tables = await sizes(db, ['snapshots', 'snapshots_hourly', 'snapshots_daily'])
    const total = tables.reduce((n, t) => n + t.bytes, 0)
    // One-day channel's rows are a rounding error here (a day in ten thousand years).
    const bytesPerChannelYear = Math.round(total / channels)

    // A year fully raw, for a sample of channels: partitioned by week like snapshots, the same key and index.
    const sample = Math.min(HISTORY_RAW_SAMPLE, channels)
    await sql`create table raw_year_sample (like snapshots including defaults including constraints) partition by range (captured_at)`.execute(db)
    for (let week = weekStartOf(yearStart).getTime(); week <= nowMs; week += 7 * DAY) {
      await sql`create table ${sql.id(`raw_year_sample_${week}`)} partition of raw_year_sample for values from (${sql.lit(new Date(week).toISOString())}) to (${sql.lit(new Date(week + 7 * DAY).toISOString())})`.execute(db)
    }
    await insertRaw(db, 'raw_year_sample', 1, sample, yearStart, today)
    await sql`alter table raw_year_sample add primary key (id, captured_at)`.execute(db)
    await sql`create index raw_year_sample_user_captured on raw_year_sample (user_id, captured_at desc)`.execute(db)
    await sql`vacuum analyze raw_year_sample`.execute(db)
    const [rawSample] = await sizes(db, ['raw_year_sample'])
    const rawBytesPerChannelYear = Math.round(rawSample!.bytes / sample)
    await sql`drop table raw_year_sample`.execute(db)
    log('history: sizes measured')

    // Reads, as the routes make them at `now`.
    const kit = db as unknown as IngestDb
    const sources = historySources(nowMs, SETTINGS)
    const random = () => channelId(1 + Math.floor(Math.random() * channels))
    const one = () => channelId(fresh)
    const history = (days: number) => async (userId: string) =>
      (await readHistory(kit, userId, 'followers', new Date(nowMs - days * DAY), now, MAX_POINTS, sources)).length
    const overview = async (userId: string) => { await readOverview(kit, userId, COLUMNS, nowMs); return 0 }
    const kinds: Array<[string, (userId: string) => Promise<number>]> = [
      ['history, 1 day', history(1)],
      ['history, 7 days', history(7)],
      ['history, 30 days (the default range)', history(30)],
      ['history, 90 days', history(90)],
      ['history, 365 days', history(365)],
      ['overview (latest, 1d/7d/30d changes)', overview]
    ]
    const reads: ReadRow[] = []
    for (const [read, fn] of kinds) {
      await timeReads(Math.max(20, Math.ceil(HISTORY_READS / 10)), random, fn) // warm-up
      const year = await timeReads(HISTORY_READS, random, fn)
      const oneDay = await timeReads(HISTORY_READS, one, fn)
      reads.push({ read, year: year.latency, oneDay: oneDay.latency, points: year.points })
      log(`history: ${read}: p99 ${year.latency.p99Ms} ms (one-day channel ${oneDay.latency.p99Ms} ms)`)
    }

    // The job: a steady run an hour later (one new hour of snapshots for every channel), a re-run
    // (nothing to do), and a run whose raw window has moved past the oldest week (a week dropped).
    const jobs: HistoryResult['jobs'] = []
    await insertRaw(db, 'snapshots', 1, channels, new Date(nowMs + REFRESH_INTERVAL_MS), new Date(nowMs + HOUR + 1))
    const job = async (what: string, at: number, settings: RetentionSettings) => {
      const start = process.hrtime.bigint()
      const r = await runSnapshotRetention(db, at, settings)
      jobs.push({ what, ms: Math.round(ms(start)), detail: `${r.hourlyRows} hourly and ${r.dailyRows} daily rows written, ${r.partitionsCreated} partitions created, ${r.partitionsDropped} dropped, ${r.hourlyDeleted} hourly rows deleted` })
      log(`history: job, ${what}: ${jobs.at(-1)!.ms} ms`)
    }
    await job('an hour later (the steady state)', nowMs + HOUR, SETTINGS)
    await job('the same again (nothing to do)', nowMs + HOUR, SETTINGS)
    const expired = Math.floor((nowMs + HOUR - (rawFrom.getTime() + 7 * DAY)) / DAY)
    await job(`with the oldest raw week expired (raw window ${expired} days)`, nowMs + HOUR, { ...SETTINGS, rawDays: expired })

    return { channels, now, generateSeconds, tables, bytesPerChannelYear, rawBytesPerChannelYear, rawSampleChannels: sample, reads, readsPerRow: HISTORY_READS, jobs }
  } finally {
    await db.destroy()
    // Gigabytes the next run makes again: not left on a shared machine.
    await dropDatabase(DATABASE_NAME)
  }
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

export function historyReport (r: HistoryResult): string {
  const lines = [
    `Storage per channel-year: **${kib(r.bytesPerChannelYear)}** as the retention keeps it, against ${kib(r.rawBytesPerChannelYear)} fully raw ` +
      `(measured on ${r.rawSampleChannels} channels, scaled): ${(r.rawBytesPerChannelYear / r.bytesPerChannelYear).toFixed(1)}× less. ` +
      `For ${r.channels.toLocaleString('en')} channels: ${mib(r.bytesPerChannelYear * r.channels)} against ${mib(r.rawBytesPerChannelYear * r.channels)}.`,
    '',
    '| table | rows | size (tables + indexes) | per channel |',
    '|---|---:|---:|---:|',
    ...r.tables.map((t) => `| ${t.table} | ${t.rows.toLocaleString('en')} | ${mib(t.bytes)} | ${kib(t.bytes / r.channels)} |`),
    '',
    `Reads at ${r.now.toISOString()} (${r.readsPerRow} per row, one at a time, random channels of the year; the same reads of a channel with one day of history):`,
    '',
    '| read | points (at most) | p50 ms | p99 ms | max ms | one-day channel p50 / p99 ms | p99 ratio | p99 ≤ 10 ms and ≤ 2× |',
    '|---|---:|---:|---:|---:|---:|---:|---|'
  ]
  for (const row of r.reads) {
    const ratio = row.year.p99Ms / Math.max(row.oneDay.p99Ms, 0.001)
    lines.push(`| ${row.read} | ${row.points === 0 ? '–' : row.points} | ${row.year.p50Ms} | ${row.year.p99Ms} | ${row.year.maxMs} | ${row.oneDay.p50Ms} / ${row.oneDay.p99Ms} | ${ratio.toFixed(2)} | ${row.year.p99Ms <= 10 && ratio <= 2 ? 'yes' : '**no**'} |`)
  }
  lines.push('', 'The retention job over all channels:', '', '| run | time ms | what it did |', '|---|---:|---|')
  for (const job of r.jobs) lines.push(`| ${job.what} | ${job.ms} | ${job.detail} |`)
  lines.push('', `Generating the data (SQL, indexes built after the rows) took ${r.generateSeconds} s.`)
  return lines.join('\n')
}
