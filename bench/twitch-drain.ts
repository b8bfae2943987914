// Issue 7 ("Twitch and X metrics"), its speed requirement: 1,000 connected simulated users
// refreshed once — the time to drain with one twitch-ingest replica and with two, the Helix calls
// per refresh, failures and redeliveries, and the ingest's CPU per refresh.
//
// Each run starts from nothing: a new database (migrated with the kit's `migrateToLatest`), a new
// NATS prefix (so new streams and durable consumers) and a new simulator (so fresh Helix budgets).
// The refreshes measured are the ones the link events trigger: 1,000 users connecting at once,
// each `auth.connection.linked.v1` handled by the ingest (track + request a refresh through its
// outbox), then refreshed. The clock runs from the first link event published to the moment the
// benchmark sees 1,000 handled requests in `processed_refreshes` (polled every 50 ms).
//
// Pulse users and simulator accounts: the simulator has 27 Twitch accounts, so the 1,000 users
// share them, and every user of an account gets that account's token — and spends its Helix
// budget (800 points a minute per client and user). Real users each have their own account and
// budget; here ~37 users on one account would spend 37 refreshes' worth of one budget. Two mixes:
// - `budget`: users are spread over the accounts in inverse proportion to what one refresh of the
//   account costs (its Helix calls), so that every account spends about the same share of its
//   budget and none is throttled: the drain measures the service;
// - `equal`: the same number of users on every account; the largest accounts then need more than
//   one window of budget, and the drain measures the throttling.
//
// Cores: the ingest replicas, the service under test, are pinned to core 0. The simulator stands in
// for Twitch and the token responder for auth: they are outside the service, so the simulator is
// pinned to core 1 with this driver (whose work is publishing 1,000 events, answering token
// requests and polling), and Twitch's work does not take CPU from the service. Postgres and NATS
// are not pinned.
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { EventBus, migrateToLatest } from '@pulse/service-kit'
import pg from 'pg'
import { databaseUrl, dropDatabase } from './lib/database.js'
import { MemorySampler, ROOT, SERVER_CORE, cpuMicros, memoryText, nodeServer, pidsOf, stopAll, type Memory, type Server } from './lib/processes.js'
import { BenchTokenResponder, SimClient, type SimAccount } from './lib/twitch-sim.js'

const SIM_CORE = '1'
const PORTS = { sim: 3930, ingest: 3931 }
const DATABASE_NAME = 'pulse_bench_twitch'
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const SCHEMA = 'twitch_ingest'
const LINKED_SUBJECT = 'auth.connection.linked.v1'
/** The ingest's durable consumer of refresh requests (shared by its replicas). */
const REFRESH_DURABLE = 'twitch-ingest-refresh'
const HELIX_POINTS_PER_MINUTE = 800
/** A run that has not drained by then is reported as unfinished. */
const DRAIN_LIMIT_MS = 240_000

export type Mix = 'budget' | 'equal'

export interface DrainResult {
  mix: Mix
  replicas: number
  users: number
  accounts: number
  /** Null: not drained within DRAIN_LIMIT_MS. */
  drainMs: number | null
  /** Until all users were tracked (their link events handled). */
  trackedMs: number | null
  publishMs: number
  stored: number
  failed: Record<string, number>
  /** Refresh requests in the stream, deliveries of them to the refresh consumer. */
  requests: number
  deliveries: number
  refreshedEvents: number
  failedEvents: number
  /** Warnings and errors the replicas logged, by message (and reason). */
  warnings: Record<string, number>
  helix: Record<string, number>
  /** The most Helix calls in flight at once during the drain (the simulator's count). */
  helixInFlight: number
  tokenRequests: number
  tokenRenewals: number
  /** CPU in µs per stored refresh. */
  cpu: { ingest: number[], sim: number, postgres: number, nats: number }
  /** Share of each core busy during the drain (every process on it, ours or not). */
  coreBusy: { core0: number, core1: number }
  /** CPU of every process not part of the run (other work on the machine), as a share of both cores. */
  others: number
  /** Seconds spent waiting for the machine to be quiet before the run, and whether it was. */
  quiet: { waitedS: number, reached: boolean }
  /** RSS of the replicas and the simulator right before the first link event, and its peak during the drain. */
  memory: Memory[]
  /** The most Helix points one simulator account needs for its users' refreshes (users × calls per refresh). */
  plannedPeak: { login: string, points: number, users: number }
  /** Helix calls the plan predicts in all. */
  plannedCalls: number
  /** The most Helix points one simulator account spent in its window (probed after a drain shorter than the window). */
  peakPoints: { login: string, used: number, users: number } | null
  /** Our processes' CPU over the drain's wall time: the ingest replicas together, the simulator. */
  share: { ingest: number, sim: number }
  loadAverage: string
}

interface LoggedServer extends Server {
  warnings: Map<string, number>
}

/** Starts a command pinned to `core`, counting the warnings and errors it logs; resolves once `url` answers. */
async function startOn (core: string, name: string, command: string[], env: Record<string, string>, url: string): Promise<LoggedServer> {
  const child = spawn('taskset', ['-c', core, ...command], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const warnings = new Map<string, number>()
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let entry: { level?: number, msg?: string, reason?: string, detail?: unknown }
    try {
      entry = JSON.parse(line) as typeof entry
    } catch {
      return
    }
    if ((entry.level ?? 0) < 40) return
    const after429 = typeof entry.detail === 'string' && entry.detail.includes('answered 429') ? ', after a 429' : ''
    const key = entry.reason === undefined ? String(entry.msg) : `${entry.msg} (${entry.reason}${after429})`
    warnings.set(key, (warnings.get(key) ?? 0) + 1)
  })
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`)
    try {
      await fetch(url)
      return { name, child, pid: child.pid!, warnings }
    } catch {
      await sleep(100)
    }
  }
  child.kill('SIGKILL')
  throw new Error(`${name} did not answer at ${url}`)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
/** µs → ms, or ms → s, one decimal. */
const milli = (value: number) => Math.round(value / 100) / 10
const percent = (share: number) => `${Math.round(share * 100)} %`
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** Busy and total jiffies of one core, from /proc/stat. */
function coreTimes (core: string): { busy: number, total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${core} `))
  const values = (line ?? '').trim().split(/\s+/).slice(1).map(Number)
  const total = values.reduce((a, b) => a + b, 0)
  const idle = (values[3] ?? 0) + (values[4] ?? 0)
  return { busy: total - idle, total }
}

/** A process's CPU so far; 0 once it is gone (a server we did not start may stop at any time). */
function cpuOf (pid: number): number {
  try {
    return cpuMicros(pid)
  } catch {
    return 0
  }
}

const MICROS_PER_TICK = 10_000 // /proc/stat counts in 1/100 s (getconf CLK_TCK)

/**
 * Other work on the machine (test suites, compilers) shows in the drain times: wait, up to a
 * minute, until both cores have been under 15 % busy for three seconds in a row.
 */
/** BENCH_QUIET_MAX_S: the longest wait for a quiet machine before each run (0 for the smoke test). */
const QUIET_MAX_MS = Number(process.env.BENCH_QUIET_MAX_S ?? 60) * 1000

async function waitForQuiet (): Promise<{ waitedS: number, reached: boolean }> {
  const start = Date.now()
  let calm = 0
  while (Date.now() - start < QUIET_MAX_MS) {
    const a = [coreTimes('0'), coreTimes('1')]
    await sleep(1000)
    const b = [coreTimes('0'), coreTimes('1')]
    const busy = (b[0]!.busy - a[0]!.busy + b[1]!.busy - a[1]!.busy) / Math.max(1, b[0]!.total - a[0]!.total + b[1]!.total - a[1]!.total)
    calm = busy < 0.15 ? calm + 1 : 0
    if (calm >= 3) return { waitedS: Math.round((Date.now() - start) / 1000), reached: true }
  }
  return { waitedS: Math.round((Date.now() - start) / 1000), reached: false }
}

/**
 * CPU of the Postgres backends serving the bench database (the ingest's pool), sampled while the
 * drain runs: a backend first seen during the drain counts from its start.
 */
class BackendCpu {
  private readonly first = new Map<number, number>()
  private readonly last = new Map<number, number>()
  private baseline = true

  constructor (private readonly db: pg.Client) {}

  async sample (): Promise<void> {
    const { rows } = await this.db.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')
    for (const { pid } of rows) {
      let value: number
      try {
        value = cpuMicros(pid)
      } catch {
        continue
      }
      if (!this.first.has(pid)) this.first.set(pid, this.baseline ? value : 0)
      this.last.set(pid, value)
    }
    this.baseline = false
  }

  total (): number {
    return sum([...this.last].map(([pid, value]) => value - this.first.get(pid)!))
  }
}

/** Helix calls of one refresh of an account (fetch-metrics.ts, pages of 100): users, followers, followed channels, bits, and the pages of subscriptions, videos and live follows. */
function refreshCost (expected: Awaited<ReturnType<SimClient['expected']>>): number {
  const pages = (n: number) => Math.max(1, Math.ceil(n / 100))
  return 4 + pages(expected.subscribers.total) + pages(expected.videos.count) + pages(expected.followedChannels)
}

/** Which account each of `users` users is linked to, interleaved so that every account's users arrive spread over the run. */
function assign (accounts: SimAccount[], costs: number[], users: number, mix: Mix): SimAccount[] {
  const weights = accounts.map((_, i) => mix === 'equal' ? 1 : 1 / costs[i]!)
  const total = sum(weights)
  const exact = weights.map((w) => (users * w) / total)
  const quota = exact.map(Math.floor)
  // Largest remainders get the users rounding left over.
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0])
  const left = users - sum(quota)
  for (let k = 0; k < left; k++) quota[order[k]![1]]!++
  const out: SimAccount[] = []
  while (out.length < users) {
    for (let i = 0; i < accounts.length; i++) {
      if (quota[i]! > 0) {
        out.push(accounts[i]!)
        quota[i]!--
      }
    }
  }
  return out
}

async function drainOnce (mix: Mix, replicas: number, users: number): Promise<DrainResult> {
  const prefix = `benchtwitch${Date.now().toString(36)}r${replicas}`
  const url = databaseUrl(DATABASE_NAME)
  await dropDatabase(DATABASE_NAME)
  await migrateToLatest({ url, schema: SCHEMA, folder: path.join(ROOT, 'services/twitch-ingest/src/db/migrations') })

  const servers: LoggedServer[] = []
  let responder: BenchTokenResponder | undefined
  let bus: EventBus | undefined
  const db = new pg.Client({ connectionString: url })
  try {
    const simUrl = `http://127.0.0.1:${PORTS.sim}`
    const simServer = await startOn(SIM_CORE, 'provider-sim', nodeServer('packages/provider-sim/src/server.ts'),
      { PORT: String(PORTS.sim), SIM_CONTROL: 'true', LOG_LEVEL: 'warn' }, `${simUrl}/_sim/clock`)
    servers.push(simServer)
    const sim = new SimClient(simUrl)
    const accounts = await sim.accounts()
    await sim.setLatency(TWITCH_LATENCY_MS)

    // One real token per simulator account, through its scripted consent.
    responder = await BenchTokenResponder.start({ natsUrl: NATS_URL, prefix, sim })
    for (const account of accounts) responder.addAccount(account, await sim.grant(account))

    // Connected before the replicas start: whatever happens next, the streams they create are deleted at the end.
    bus = await EventBus.connect({ url: NATS_URL, name: 'bench-twitch-drain', prefix })
    const ingest: LoggedServer[] = []
    for (let i = 0; i < replicas; i++) {
      const port = PORTS.ingest + i
      const server = await startOn(SERVER_CORE, `twitch-ingest-${i + 1}`, nodeServer('services/twitch-ingest/src/server.ts'), {
        PORT: String(port),
        NODE_ENV: 'development',
        LOG_LEVEL: 'warn',
        DATABASE_URL: url,
        NATS_URL,
        NATS_PREFIX: prefix,
        TWITCH_AUTH_URL: `${simUrl}/oauth2`,
        TWITCH_API_URL: `${simUrl}/helix`,
        // Windows of ten years: the start-up tick finds no account, and the next window is years away.
        TWITCH_REFRESH_INTERVAL_S: String(10 * 365 * 24 * 3600)
      }, `http://127.0.0.1:${port}/health`)
      servers.push(server)
      ingest.push(server)
    }

    await db.connect()
    const costs: number[] = []
    for (const account of accounts) costs.push(refreshCost(await sim.expected(account.login)))
    const plan = assign(accounts, costs, users, mix).map((account) => ({ userId: randomUUID(), account }))
    for (const { userId, account } of plan) responder.link(userId, account.login)
    const usersOf = new Map<string, number>()
    for (const { account } of plan) usersOf.set(account.login, (usersOf.get(account.login) ?? 0) + 1)
    let plannedPeak = { login: '', points: 0, users: 0 }
    let plannedCalls = 0
    accounts.forEach((account, i) => {
      const n = usersOf.get(account.login) ?? 0
      plannedCalls += n * costs[i]!
      if (n * costs[i]! > plannedPeak.points) plannedPeak = { login: account.login, points: n * costs[i]!, users: n }
    })

    await sim.resetCounts()
    const natsPort = new URL(NATS_URL.split(',')[0]!.trim()).port || '4222'
    const natsPids = pidsOf(new RegExp(`nats-server.*(-p|--port)[ =]${natsPort}\\b`))
    if (natsPids.length === 0) natsPids.push(...pidsOf(/^\S*nats-server /))
    const backends = new BackendCpu(db)
    await backends.sample()
    const quiet = await waitForQuiet()
    const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
    const before = { ingest: ingest.map((s) => cpuMicros(s.pid)), sim: cpuMicros(simServer.pid), nats: natsPids.map(cpuOf), core0: coreTimes('0'), core1: coreTimes('1'), driver: process.cpuUsage() }
    const tokenRequestsBefore = responder.requests
    const memory = new MemorySampler([...ingest, simServer].map((s) => ({ name: s.name, pids: [s.pid] })))

    const t0 = performance.now()
    const linkedAt = new Date().toISOString()
    const link = ({ userId, account }: { userId: string, account: SimAccount }) => bus!.publishRaw(LINKED_SUBJECT,
      { userId, provider: 'twitch', providerUserId: account.twitchId, providerLogin: account.login, linkedAt }, { msgID: `bench-linked-${userId}` })
    for (let i = 0; i < plan.length; i += 100) await Promise.all(plan.slice(i, i + 100).map(link))
    const publishMs = performance.now() - t0

    let trackedMs: number | null = null
    let drainMs: number | null = null
    while (performance.now() - t0 < DRAIN_LIMIT_MS) {
      const { rows } = await db.query<{ tracked: number, processed: number }>(
        `select (select count(*) from ${SCHEMA}.tracked_accounts)::int as tracked, (select count(*) from ${SCHEMA}.processed_refreshes)::int as processed`)
      const elapsed = performance.now() - t0
      if (trackedMs === null && rows[0]!.tracked >= users) trackedMs = elapsed
      if (rows[0]!.processed >= users) {
        drainMs = elapsed
        break
      }
      await backends.sample()
      await sleep(50)
    }
    await backends.sample()
    const memoryPeaks = memory.stop()
    const after = { ingest: ingest.map((s) => cpuMicros(s.pid)), sim: cpuMicros(simServer.pid), nats: natsPids.map(cpuOf), core0: coreTimes('0'), core1: coreTimes('1'), driver: process.cpuUsage(before.driver) }
    const helix = await sim.callCounts()
    const helixInFlight = (await sim.inFlight()).max
    const tokenRequests = responder.requests - tokenRequestsBefore

    // Helix budgets: with the whole drain inside one window, what is left of each account's budget
    // now is what the drain spent (less the probe's own point).
    let peakPoints: DrainResult['peakPoints'] = null
    if (performance.now() - t0 < 55_000) {
      for (const account of accounts) {
        const { remaining } = await sim.helixBudget(responder.grantOf(account.login)!.accessToken)
        const used = HELIX_POINTS_PER_MINUTE - remaining - 1
        if (peakPoints === null || used > peakPoints.used) peakPoints = { login: account.login, used, users: usersOf.get(account.login) ?? 0 }
      }
    }

    const { rows: outcomes } = await db.query<{ outcome: string, failure_reason: string | null, n: number }>(
      `select outcome, failure_reason, count(*)::int as n from ${SCHEMA}.processed_refreshes group by 1, 2`)
    const stored = sum(outcomes.filter((r) => r.outcome === 'refreshed').map((r) => r.n))
    const failed = Object.fromEntries(outcomes.filter((r) => r.outcome === 'failed').map((r) => [r.failure_reason ?? '?', r.n]))

    // The outbox publishes the refreshed events just after each commit: give it a moment.
    const stream = `${prefix}_METRICS`
    const subjectCounts = async () => {
      const info = await bus!.jsm.streams.info(stream, { subjects_filter: '>' })
      const subjects = (info.state.subjects ?? {}) as Record<string, number>
      const count = (s: string) => subjects[`${prefix}.${s}`] ?? 0
      return { requests: count('metrics.refresh.requested.v1.twitch'), refreshed: count('metrics.refreshed.v1.twitch'), failed: count('metrics.refresh.failed.v1.twitch') }
    }
    let events = await subjectCounts()
    for (let i = 0; i < 50 && events.refreshed + events.failed < stored + sum(Object.values(failed)); i++) {
      await sleep(100)
      events = await subjectCounts()
    }
    const consumer = await bus.jsm.consumers.info(stream, REFRESH_DURABLE)

    const warnings: Record<string, number> = {}
    for (const server of servers) for (const [key, n] of server.warnings) warnings[`${server.name}: ${key}`] = n
    const per = (micros: number) => stored === 0 ? 0 : Math.round(micros / stored)
    const busy = (a: { busy: number, total: number }, b: { busy: number, total: number }) => Math.round(((b.busy - a.busy) / Math.max(1, b.total - a.total)) * 100) / 100
    const wall = (drainMs ?? DRAIN_LIMIT_MS) * 1000
    const ours = sum(after.ingest.map((v, i) => v - before.ingest[i]!)) + (after.sim - before.sim) + backends.total() +
      sum(after.nats.map((v, i) => Math.max(0, v - before.nats[i]!))) + after.driver.user + after.driver.system
    const machine = (after.core0.busy - before.core0.busy + after.core1.busy - before.core1.busy) * MICROS_PER_TICK
    const machineTotal = (after.core0.total - before.core0.total + after.core1.total - before.core1.total) * MICROS_PER_TICK
    return {
      mix,
      replicas,
      users,
      accounts: accounts.length,
      drainMs: drainMs === null ? null : Math.round(drainMs),
      trackedMs: trackedMs === null ? null : Math.round(trackedMs),
      publishMs: Math.round(publishMs),
      stored,
      failed,
      requests: events.requests,
      deliveries: consumer.delivered.consumer_seq,
      refreshedEvents: events.refreshed,
      failedEvents: events.failed,
      warnings,
      helix,
      helixInFlight,
      tokenRequests,
      tokenRenewals: responder.renewals,
      cpu: {
        ingest: ingest.map((_, i) => per(after.ingest[i]! - before.ingest[i]!)),
        sim: per(after.sim - before.sim),
        postgres: per(backends.total()),
        nats: per(sum(after.nats.map((v, i) => Math.max(0, v - before.nats[i]!))))
      },
      coreBusy: { core0: busy(before.core0, after.core0), core1: busy(before.core1, after.core1) },
      others: Math.max(0, Math.round(((machine - ours) / Math.max(1, machineTotal)) * 100) / 100),
      quiet,
      memory: memoryPeaks,
      plannedPeak,
      plannedCalls,
      peakPoints,
      share: {
        ingest: Math.round((sum(after.ingest.map((v, i) => v - before.ingest[i]!)) / wall) * 100) / 100,
        sim: Math.round(((after.sim - before.sim) / wall) * 100) / 100
      },
      loadAverage
    }
  } finally {
    await stopAll(servers)
    if (bus !== undefined) {
      for (const name of ['METRICS', 'AUTH']) await bus.jsm.streams.delete(`${prefix}_${name}`).catch(() => {})
      await bus.close()
    }
    await responder?.close()
    await db.end().catch(() => {})
  }
}

/** `budget:1,budget:2,equal:2` → the runs it names. */
function parseRuns (value: string): Array<{ mix: Mix, replicas: number }> {
  return value.split(',').map((item) => {
    const [mix, replicas] = item.trim().split(':')
    if ((mix !== 'budget' && mix !== 'equal') || !/^[1-4]$/.test(replicas ?? '')) throw new Error(`BENCH_TWITCH_RUNS: "${item}" is not budget:<1-4> or equal:<1-4>`)
    return { mix, replicas: Number(replicas) }
  })
}

/**
 * Each run from a clean state: the service with one and with two replicas (users spread by cost),
 * then the throttling of equal shares. BENCH_TWITCH_USERS overrides the 1,000 users,
 * BENCH_TWITCH_RUNS the runs (`budget:1,budget:2,equal:2`, the default; repeat one to get several trials).
 */
export const TWITCH_USERS = Number(process.env.BENCH_TWITCH_USERS ?? 1000)
export const TWITCH_RUNS = process.env.BENCH_TWITCH_RUNS ?? 'budget:1,budget:2,equal:2'
/** BENCH_TWITCH_LATENCY_MS: the simulator answers every call this much later (0: at once). */
export const TWITCH_LATENCY_MS = Number(process.env.BENCH_TWITCH_LATENCY_MS ?? 0)

export async function benchTwitchDrain ({ users = TWITCH_USERS, runs = parseRuns(TWITCH_RUNS) } = {}): Promise<DrainResult[]> {
  const results: DrainResult[] = []
  for (const { mix, replicas } of runs) results.push(await drainOnce(mix, replicas, users))
  return results
}

/** The Markdown report of the runs. */
export function twitchDrainReport (results: DrainResult[]): string {
  const lines = [
    '| users on accounts | replicas (core 0) | drain s | all linked s | refreshes/s | stored / failed | requests / deliveries | Helix calls per refresh | ingest CPU ms/refresh | ingest busy | sim CPU ms/refresh | Postgres CPU ms/refresh | NATS CPU ms/refresh | core 0 / core 1 busy | other processes | memory MiB idle → peak |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|'
  ]
  for (const r of results) {
    const helixCalls = sum(Object.entries(r.helix).filter(([k]) => k.includes('/helix/')).map(([, v]) => v))
    lines.push(`| ${r.users} on ${r.accounts}, ${r.mix === 'budget' ? 'spread by cost' : 'equal shares'} | ${r.replicas} | ` +
      `${r.drainMs === null ? `not drained in ${DRAIN_LIMIT_MS / 1000} s` : milli(r.drainMs)} | ${r.trackedMs === null ? '–' : milli(r.trackedMs)} | ` +
      `${r.drainMs === null ? '–' : Math.round((r.stored / r.drainMs) * 10_000) / 10} | ${r.stored} / ${sum(Object.values(r.failed))} | ${r.requests} / ${r.deliveries} | ` +
      `${r.stored === 0 ? '–' : Math.round((helixCalls / r.stored) * 100) / 100} | ` +
      `${milli(sum(r.cpu.ingest))}${r.cpu.ingest.length > 1 ? ` (${r.cpu.ingest.map(milli).join(' + ')})` : ''} | ${percent(r.share.ingest)} | ` +
      `${milli(r.cpu.sim)} | ${milli(r.cpu.postgres)} | ${milli(r.cpu.nats)} | ${percent(r.coreBusy.core0)} / ${percent(r.coreBusy.core1)} | ${percent(r.others)} | ${memoryText(r.memory)} |`)
  }
  const endpoints = [...new Set(results.flatMap((r) => Object.keys(r.helix)))].sort()
  const label = (r: DrainResult) => `${r.mix === 'budget' ? 'by cost' : 'equal'}, ${r.replicas} replica${r.replicas > 1 ? 's' : ''}`
  lines.push('', `| calls per stored refresh (total) | ${results.map(label).join(' | ')} |`, `|---|${results.map(() => '---:').join('|')}|`)
  for (const endpoint of endpoints) {
    lines.push(`| ${endpoint} | ${results.map((r) => r.stored === 0 ? '–' : `${Math.round(((r.helix[endpoint] ?? 0) / r.stored) * 100) / 100} (${r.helix[endpoint] ?? 0})`).join(' | ')} |`)
  }
  for (const r of results) {
    const notes = [
      `simulator latency ${TWITCH_LATENCY_MS} ms per call`,
      `${r.quiet.reached ? `machine quiet after ${r.quiet.waitedS} s` : `machine still busy after waiting ${r.quiet.waitedS} s`}, load average then ${r.loadAverage}`,
      `link events published in ${milli(r.publishMs)} s`,
      `refreshed events ${r.refreshedEvents}, failed events ${r.failedEvents}${Object.keys(r.failed).length > 0 ? ` (${Object.entries(r.failed).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`,
      `redeliveries of refresh requests ${r.deliveries - r.requests}`,
      `most Helix calls in flight at once ${r.helixInFlight} (at most 7 per refresh, ${r.replicas} × TWITCH_REFRESH_CONCURRENCY refreshes at once)`,
      `token requests ${r.tokenRequests} (renewals ${r.tokenRenewals})`,
      `Helix calls planned ${r.plannedCalls}; costliest account ${r.plannedPeak.login}: ${plural(r.plannedPeak.users, 'user')} × ${Math.round(r.plannedPeak.points / Math.max(1, r.plannedPeak.users))} calls = ${r.plannedPeak.points} of ${HELIX_POINTS_PER_MINUTE} points a minute`,
      r.peakPoints === null ? 'Helix budgets not probed (the drain outlasted one window)' : `most points spent by one account in its window: ${r.peakPoints.used} (${r.peakPoints.login}, ${plural(r.peakPoints.users, 'user')})`,
      `simulator busy ${percent(r.share.sim)} of core 1`,
      Object.keys(r.warnings).length === 0 ? 'no warnings logged' : `logged: ${Object.entries(r.warnings).map(([k, v]) => `${k} ×${v}`).join('; ')}`
    ]
    lines.push('', `${label(r)}: ${notes.join('; ')}.`)
  }
  return lines.join('\n')
}
