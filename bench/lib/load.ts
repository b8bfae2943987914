import autocannon from 'autocannon'
import { MemorySampler, cpuMicros, type Memory, type Proc } from './processes.js'

/** Seconds of unmeasured load before each measured one. */
export const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 2)

export interface LoadOptions {
  url: string
  method: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  connections: number
  durationSeconds: number
  /** A fixed number of requests instead of a duration: every answer is then counted. */
  amount?: number
  /** Every server-side process of the scenario: whose CPU counts, whose memory is reported. */
  processes: Proc[]
}

export interface LoadResult {
  requests: number
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  errors: number
  non2xx: number
  /** 2xx answers, the warm-up included (for checks against what was stored). */
  accepted: number
  cpuMicrosPerRequest: number
  /** The same, server by server (those of `processes` whose CPU counts, in their order). */
  cpuByProcess: Array<{ name: string, micros: number }>
  /** RSS right before the measured load (after the warm-up) and its peak during it. */
  memory: Memory[]
}

/** Runs autocannon (in this process, pinned by the caller to the load core) and measures the servers' CPU and memory. */
export async function runLoad (options: LoadOptions): Promise<LoadResult> {
  // warm-up: JIT, connection pools, caches (BENCH_WARMUP_S shortens it for the smoke tests)
  const warmup = await autocannon({ url: options.url, method: options.method, headers: options.headers, body: options.body, connections: options.connections, duration: WARMUP_S })
  const counted = options.processes.filter((p) => p.cpu !== false)
  const cpuOf = (p: Proc) => p.pids.reduce((sum, pid) => sum + cpuMicros(pid), 0)
  const memory = new MemorySampler(options.processes)
  const before = counted.map(cpuOf)
  const result = await autocannon({
    url: options.url, method: options.method, headers: options.headers, body: options.body, connections: options.connections,
    ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.durationSeconds })
  })
  const after = counted.map(cpuOf)
  const peaks = memory.stop()
  const cpu = after.reduce((sum, value, i) => sum + value - before[i]!, 0)
  const requests = result.requests.total
  const perRequest = (micros: number) => requests === 0 ? 0 : Math.round((micros / requests) * 10) / 10
  return {
    requests,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    accepted: warmup['2xx'] + result['2xx'],
    cpuMicrosPerRequest: perRequest(cpu),
    cpuByProcess: counted.map((p, i) => ({ name: p.name, micros: perRequest(after[i]! - before[i]!) })),
    memory: peaks
  }
}
