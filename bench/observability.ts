// Issue "Observability": what metrics and tracing cost. GET /mood through the gateway (the gateway
// hop and the mood service both on the measured path) with everything off, metrics on, and metrics
// with tracing sampling 1 % and 100 % of requests — four copies of gateway + mood running side by
// side, measured in turns (round after round, the order rotated each round), so that a change in the
// machine's load between rows falls on every configuration alike. The verdict uses the median of the
// rounds.
import path from 'node:path'
import { migrateToLatest } from '@pulse/service-kit'
import pg from 'pg'
import { runLoad, type LoadResult } from './lib/load.js'
import { PRODUCTION_ENV } from './lib/production.js'
import { ROOT, nodeServer, pidsOf, startPinned, stopAll, type Proc, type Server } from './lib/processes.js'

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pulse_bench'
const PORTS = { auth: 3920, sink: 3921, first: 3940 }
export const OBSERVABILITY_ROUNDS = Number(process.env.BENCH_OBSERVABILITY_ROUNDS ?? 3)
export const OBSERVABILITY_CONNECTIONS = 10
/** Metrics may add at most this share of CPU per request. */
export const METRICS_BUDGET = 0.05

export interface Configuration { name: string, metrics: boolean, sampleRatio?: number }
export const CONFIGURATIONS: Configuration[] = [
  { name: 'metrics off, tracing off', metrics: false },
  { name: 'metrics on, tracing off', metrics: true },
  { name: 'metrics on, tracing 1 %', metrics: true, sampleRatio: 0.01 },
  { name: 'metrics on, tracing 100 %', metrics: true, sampleRatio: 1 }
]

export interface ObservabilityResult {
  configuration: Configuration
  /** One result per round, in round order. */
  rounds: LoadResult[]
  /** What the configuration really did: requests counted on /metrics, spans exported. */
  check: string
}

interface Pair { configuration: Configuration, url: string, metricsUrls: string[], gateway: Server, mood: Server }

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
export const medianOf = (rounds: LoadResult[], pick: (r: LoadResult) => number): number => median(rounds.map(pick))

export async function benchObservability ({ durationSeconds = 10, rounds = OBSERVABILITY_ROUNDS } = {}): Promise<{ results: ObservabilityResult[], collector: string }> {
  const servers: Server[] = []
  const stamp = Date.now()
  const common = { ...PRODUCTION_ENV, DATABASE_URL, REDIS_PREFIX: `benchobs${stamp}:`, NATS_PREFIX: `benchobs${stamp}` }
  const db = new pg.Client({ connectionString: DATABASE_URL })
  try {
    for (const [service, schema] of [['auth', 'auth'], ['mood', 'mood']] as const) {
      await migrateToLatest({ url: DATABASE_URL, schema, folder: path.join(ROOT, `services/${service}/src/db/migrations`) })
    }
    const start = async (name: string, script: string, port: number, env: Record<string, string> = {}) => {
      const server = await startPinned(name, nodeServer(script), { env: { ...common, PORT: String(port), ...env }, url: `http://127.0.0.1:${port}/health` })
      servers.push(server)
      return server
    }
    const sink = await startPinned('otlp-sink', [process.execPath, 'bench/servers/otlp-sink.mjs'], { env: { PORT: String(PORTS.sink) }, url: `http://127.0.0.1:${PORTS.sink}/` })
    servers.push(sink)
    const sinkStats = async () => await (await fetch(`http://127.0.0.1:${PORTS.sink}/`)).json() as { exports: number, bytes: number }
    await start('auth', 'services/auth/src/server.ts', PORTS.auth)

    // A gateway and a mood service per configuration: port `first + 4i` the gateway, +1 mood, +2 and
    // +3 their metrics listeners. Each service of a traced pair exports to the sink.
    const pairs: Pair[] = []
    for (const [i, configuration] of CONFIGURATIONS.entries()) {
      const port = PORTS.first + 4 * i
      const env = (metricsPort: number): Record<string, string> => ({
        ...(configuration.metrics ? { METRICS_PORT: String(metricsPort) } : {}),
        ...(configuration.sampleRatio !== undefined ? { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${PORTS.sink}`, OTEL_TRACES_SAMPLER_ARG: String(configuration.sampleRatio) } : {})
      })
      const mood = await start(`mood ${i}`, 'services/mood/src/server.ts', port + 1, env(port + 3))
      const gateway = await start(`gateway ${i}`, 'services/gateway/src/server.ts', port, {
        ...env(port + 2),
        AUTH_URL: `http://127.0.0.1:${PORTS.auth}`, MOOD_URL: `http://127.0.0.1:${port + 1}`,
        RATE_LIMIT_PER_USER: '1000000000', RATE_LIMIT_PER_ADDRESS: '1000000000'
      })
      pairs.push({ configuration, url: `http://127.0.0.1:${port}/mood`, metricsUrls: [port + 2, port + 3].map((p) => `http://127.0.0.1:${p}/metrics`), gateway, mood })
    }

    // One user with a month of entries (inserted directly): every gateway resolves the same session from Redis.
    const res = await fetch(`${pairs[0]!.url.replace('/mood', '')}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: `obs${stamp}`, password: 'benchmark password' }) })
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`)
    const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!
    const userId = ((await res.json()) as { user: { id: string } }).user.id
    await db.connect()
    await db.query(`insert into mood.entries (user_id, score, logged_at, day, timezone)
      select $1, 1 + (g % 5), (current_date - g) + time '12:00', current_date - g, 'UTC' from generate_series(0, 29) g`, [userId])

    const redis: Proc = { name: 'redis', pids: pidsOf(/^redis-server/), shared: true, cpu: false }
    const processesOf = (pair: Pair): Proc[] => [{ name: 'gateway', pids: [pair.gateway.pid] }, { name: 'mood', pids: [pair.mood.pid] }, redis]
    const load = (pair: Pair, seconds: number) => runLoad({ url: pair.url, method: 'GET', headers: { cookie }, connections: OBSERVABILITY_CONNECTIONS, durationSeconds: seconds, processes: processesOf(pair) })

    // Unmeasured warm-up of every pair (JIT, pools, the session cache) before the first round.
    for (const pair of pairs) await load(pair, 3)
    const results = pairs.map(() => [] as LoadResult[])
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < pairs.length; k++) {
        const i = (k + round) % pairs.length
        results[i]!.push(await load(pairs[i]!, durationSeconds))
      }
    }

    const sunk = await sinkStats()
    const out: ObservabilityResult[] = []
    for (const [i, pair] of pairs.entries()) {
      let check = 'no /metrics listener'
      if (pair.configuration.metrics) {
        const counted = await Promise.all(pair.metricsUrls.map(async (url) => {
          const text = await (await fetch(url)).text()
          return [...text.matchAll(/^http_server_request_duration_seconds_count\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0)
        }))
        check = `/metrics counted ${counted[0]} requests at the gateway and ${counted[1]} at mood`
      }
      out.push({ configuration: pair.configuration, rounds: results[i]!, check })
    }
    return { results: out, collector: `the OTLP collector received ${sunk.exports} exports (${Math.round(sunk.bytes / 1024)} KiB of spans)` }
  } finally {
    await db.end().catch(() => {})
    await stopAll(servers)
  }
}
