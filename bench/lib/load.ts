import autocannon from 'autocannon'
import { cpuMicros, rssMiB } from './processes.js'

export interface LoadOptions {
  url: string
  method: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  connections: number
  durationSeconds: number
  /** A fixed number of requests instead of a duration: every answer is then counted. */
  amount?: number
  /** Every server-side process whose CPU counts for this scenario. */
  pids: number[]
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
  /** The same, process by process (in the order of `pids`). */
  cpuMicrosPerRequestByProcess: number[]
  rssMiB: Record<number, number>
}

/** Runs autocannon (in this process, pinned by the caller to the load core) and measures the servers' CPU. */
export async function runLoad (options: LoadOptions): Promise<LoadResult> {
  // warm-up: JIT, connection pools, caches
  const warmup = await autocannon({ url: options.url, method: options.method, headers: options.headers, body: options.body, connections: options.connections, duration: 2 })
  const before = options.pids.map(cpuMicros)
  const result = await autocannon({
    url: options.url, method: options.method, headers: options.headers, body: options.body, connections: options.connections,
    ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.durationSeconds })
  })
  const after = options.pids.map(cpuMicros)
  const cpu = after.reduce((sum, value, i) => sum + value - before[i]!, 0)
  const requests = result.requests.total
  return {
    requests,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    accepted: warmup['2xx'] + result['2xx'],
    cpuMicrosPerRequest: requests === 0 ? 0 : Math.round((cpu / requests) * 10) / 10,
    cpuMicrosPerRequestByProcess: after.map((value, i) => requests === 0 ? 0 : Math.round(((value - before[i]!) / requests) * 10) / 10),
    rssMiB: Object.fromEntries(options.pids.map((pid) => [pid, rssMiB(pid)]))
  }
}
