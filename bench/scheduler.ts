// The refresh scheduler at scale: 100,000 tracked channels (and 10,000, to compare) inserted in
// SQL, then the ingest-kit's scheduler driven tick by tick over one refresh interval on a clock of
// its own. Per tick: wall time, SQL statements sent to Postgres (counted on the pool's connections,
// transaction begin/commit included), and the channels due (published). What must hold is that a
// tick's work follows the channels due in it, not the channels tracked.
//
// The scheduler is the kit's own (`createRefreshScheduler`), on a pg pool and a real JetStream
// publisher (a fresh NATS prefix, its streams deleted at the end); only the service around it is
// left out. The progress row starts at the first tick's start, as in a running service (the very
// first tick of a service covers the whole interval before it, once).
import os from 'node:os'
import path from 'node:path'
import { METRICS_CONTRACTS, METRICS_STREAM } from '@pulse/contracts'
import { createRefreshScheduler, type IngestDatabase, type IngestPipelineOptions, type PipelineContext } from '@pulse/ingest-kit'
import { EventBus, migrateToLatest } from '@pulse/service-kit'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { databaseUrl, dropDatabase } from './lib/database.js'
import { ROOT } from './lib/processes.js'

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const DATABASE_NAME = 'pulse_bench_scheduler'
const SCHEMA = 'twitch_ingest'
/** The services' defaults: TWITCH_REFRESH_INTERVAL_S, TWITCH_SCHEDULER_TICK_S, TWITCH_SCHEDULER_PAGE_SIZE. */
const INTERVAL_MS = 900_000
const TICK_MS = 30_000
const PAGE_SIZE = 500
/** A share of the channels is invalidated: the scheduler must skip them. */
const INVALIDATED_SHARE = 0.01
const START = Date.parse('2026-12-07T09:00:10Z')

export const DEFAULT_SCHEDULER_SIZES = [10_000, 100_000]
export const SCHEDULER_SIZES = (process.env.BENCH_SCHEDULER_SIZES ?? DEFAULT_SCHEDULER_SIZES.join(',')).split(',').map((s) => Number(s.trim()))

export interface SchedulerRow {
  channels: number
  active: number
  tickMs: number
  ticks: number
  /** Channels due (published) per tick: mean, min, max. */
  due: { mean: number, min: number, max: number }
  /** Wall time of a tick, ms: median and max. */
  wallMs: { median: number, max: number }
  /** SQL statements per tick: mean, max. */
  statements: { mean: number, max: number }
  /** Statements per 1,000 channels due, over the interval. */
  statementsPerThousandDue: number
  /** Wall ms per 1,000 channels due, over the interval. */
  wallPerThousandDue: number
  /** Every active channel was requested exactly once over the interval. */
  eachOnce: boolean
  /** The plan of one tick's page query. */
  plan: string
  insertMs: number
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits

const silent = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {}, child: () => silent } as unknown as FastifyBaseLogger

/** One size: insert the channels, then one interval of ticks of `tickMs`. */
async function measure (channels: number, tickMs: number): Promise<SchedulerRow> {
  await dropDatabase(DATABASE_NAME)
  const url = databaseUrl(DATABASE_NAME)
  await migrateToLatest({ url, schema: SCHEMA, folder: path.join(ROOT, 'services/twitch-ingest/src/db/migrations') })

  let statements = 0
  const pool = new pg.Pool({ connectionString: url, max: 4, options: `-c search_path=${SCHEMA}` })
  // Every statement a pooled connection sends, kysely's and the transaction's own (begin, commit).
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      statements++
      return query(...args)
    }
  })
  const db = new Kysely<IngestDatabase>({ dialect: new PostgresDialect({ pool }) })
  const prefix = `benchsched${Date.now().toString(36)}`
  const bus = await EventBus.connect({ url: NATS_URL, name: 'bench-scheduler', prefix, streams: [METRICS_STREAM] })
  try {
    const insertStarted = performance.now()
    const raw = await pool.connect()
    try {
      await raw.query(`insert into tracked_accounts (user_id, provider_user_id, provider_login, linked_at, invalidated_at, invalid_reason)
        select gen_random_uuid()::text, (1000000 + i)::text, 'channel_' || i, now() - interval '30 days',
          case when i % $2 = 0 then now() end, case when i % $2 = 0 then 'bench' end
        from generate_series(1, $1::int) i`, [channels, Math.round(1 / INVALIDATED_SHARE)])
      await raw.query('analyze tracked_accounts')
      await raw.query('update scheduler_progress set scheduled_through = $1', [new Date(START)])
    } finally {
      raw.release()
    }
    const insertMs = performance.now() - insertStarted
    const active = Number((await db.selectFrom('tracked_accounts').select((eb) => eb.fn.countAll<string>().as('n')).where('invalidated_at', 'is', null).executeTakeFirstOrThrow()).n)

    const planRows = await sql(pool, `explain select user_id, refresh_slot from tracked_accounts where invalidated_at is null
      and refresh_slot >= 0 and refresh_slot < ${Math.round(1_000_000 * tickMs / INTERVAL_MS)} order by refresh_slot, user_id limit ${PAGE_SIZE}`)
    const planLines = planRows.map((r) => String(r['QUERY PLAN']))
    const plan = (planLines.find((line) => /Index/.test(line)) ?? planLines.find((line) => /Scan/.test(line)) ?? '?').replace(/^[\s->]+/, '').replace(/\s+\(cost.*$/, '')

    let clock = START
    const options = {
      provider: 'twitch',
      contracts: METRICS_CONTRACTS.twitch,
      now: () => clock,
      refreshIntervalMs: INTERVAL_MS,
      scheduler: { enabled: false, tickMs, pageSize: PAGE_SIZE },
      manualRefreshMinIntervalMs: 60_000,
      bookkeepingRetentionMs: 8 * 24 * 3600 * 1000
    } as unknown as IngestPipelineOptions<unknown>
    const app = { nats: bus, outbox: { wake: () => {} } } as unknown as FastifyInstance
    const context: PipelineContext<unknown> = { app, db, log: silent, options, deleteUserData: async () => {} }
    const schedule = createRefreshScheduler(context)

    const ticks = Math.round(INTERVAL_MS / tickMs)
    const dues: number[] = []
    const walls: number[] = []
    const counts: number[] = []
    for (let i = 0; i < ticks; i++) {
      clock += tickMs
      const before = statements
      const started = performance.now()
      dues.push(await schedule.runSchedulerTick())
      walls.push(performance.now() - started)
      counts.push(statements - before)
    }
    const totalDue = dues.reduce((a, b) => a + b, 0)
    const info = await bus.jsm.streams.info(`${prefix}_${METRICS_STREAM.name}`)
    return {
      channels,
      active,
      tickMs,
      ticks,
      due: { mean: round(totalDue / ticks), min: Math.min(...dues), max: Math.max(...dues) },
      wallMs: { median: round(median(walls)), max: round(Math.max(...walls)) },
      statements: { mean: round(counts.reduce((a, b) => a + b, 0) / ticks), max: Math.max(...counts) },
      statementsPerThousandDue: round(counts.reduce((a, b) => a + b, 0) / totalDue * 1000),
      wallPerThousandDue: round(walls.reduce((a, b) => a + b, 0) / totalDue * 1000),
      eachOnce: totalDue === active && info.state.messages === active,
      plan,
      insertMs: Math.round(insertMs)
    }
  } finally {
    await bus.jsm.streams.delete(`${prefix}_${METRICS_STREAM.name}`).catch(() => {})
    await bus.close()
    await db.destroy()
    await dropDatabase(DATABASE_NAME).catch(() => {})
  }
}

async function sql (pool: pg.Pool, text: string): Promise<Array<Record<string, unknown>>> {
  return (await pool.query(text)).rows as Array<Record<string, unknown>>
}

/**
 * Every size with the services' 30-second tick; and the smallest size again with ticks as long as
 * it takes for as many channels to be due per tick as for the largest: the same due count on a
 * tenth of the channels shows that the tracked total does not count.
 */
export async function benchScheduler (sizes: number[] = SCHEDULER_SIZES): Promise<SchedulerRow[]> {
  const rows: SchedulerRow[] = []
  for (const size of sizes) rows.push(await measure(size, TICK_MS))
  const smallest = Math.min(...sizes)
  const largest = Math.max(...sizes)
  if (largest > smallest) {
    const longer = Math.min(INTERVAL_MS, TICK_MS * Math.round(largest / smallest))
    if (INTERVAL_MS % longer === 0) rows.push(await measure(smallest, longer))
  }
  return rows
}

export function schedulerReport (rows: SchedulerRow[]): string {
  const lines = [
    `Refresh interval ${INTERVAL_MS / 1000} s, page size ${PAGE_SIZE}, ${INVALIDATED_SHARE * 100} % of the channels invalidated; one interval of ticks per row; ${os.cpus().length} cores.`,
    '',
    '| channels tracked (active) | tick s | ticks | due per tick (min–max) | tick ms median (max) | SQL statements per tick (max) | statements per 1,000 due | tick ms per 1,000 due | each active channel once | page query plan | insert s |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|'
  ]
  for (const r of rows) {
    lines.push(`| ${r.channels.toLocaleString('en')} (${r.active.toLocaleString('en')}) | ${r.tickMs / 1000} | ${r.ticks} | ${r.due.mean} (${r.due.min}–${r.due.max}) | ${r.wallMs.median} (${r.wallMs.max}) | ` +
      `${r.statements.mean} (${r.statements.max}) | ${r.statementsPerThousandDue} | ${r.wallPerThousandDue} | ${r.eachOnce ? 'yes' : 'NO'} | ${r.plan} | ${round(r.insertMs / 1000)} |`)
  }
  return lines.join('\n')
}
