import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import client, { type Registry } from 'prom-client'
import type pg from 'pg'
import { SpanKind, SpanStatusCode, context } from '@opentelemetry/api'
import { tracer, tracingEnabled } from './tracing.js'

/**
 * Prometheus metrics of one process, in its own registry (never prom-client's global one: a test
 * process builds several apps, and each must count only its own). Names follow Prometheus'
 * conventions: base units in the name (`_seconds`, `_bytes`), `_total` for counters, and only
 * labels with a bounded set of values — route patterns, never raw paths; no user ids.
 */
export interface ServiceMetrics {
  registry: Registry
  /** Incoming requests: `route` is the route's pattern (`/mood/:id`), `(unmatched)` for a 404 of no route. */
  httpDuration: client.Histogram<'method' | 'route' | 'status_class'>
  /** Time a caller waited for a pooled Postgres connection. */
  pgAcquireDuration: client.Histogram<never>
  redisCommandDuration: client.Histogram<'command' | 'outcome'>
}

/** Buckets for request and query latencies, in seconds: 1 ms … 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The `route` label of a request no route matched: one value, however many paths are tried. */
export const UNMATCHED_ROUTE = '(unmatched)'

/** `2xx`, `4xx`…: the status class, a label with five values. */
export function statusClass (statusCode: number): string {
  return `${Math.floor(statusCode / 100)}xx`
}

/** A fresh registry with the process metrics (event loop lag, heap, GC, CPU) and the kit's HTTP, Postgres and Redis families. */
export function createServiceMetrics (service: string): ServiceMetrics {
  const registry = new client.Registry()
  registry.setDefaultLabels({ service })
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 })
  return {
    registry,
    httpDuration: new client.Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Incoming HTTP requests by method, route pattern and status class; _count is the number of requests.',
      labelNames: ['method', 'route', 'status_class'],
      buckets: LATENCY_BUCKETS,
      registers: [registry]
    }),
    pgAcquireDuration: new client.Histogram({
      name: 'pg_pool_acquire_duration_seconds',
      help: 'Time spent waiting for a pooled Postgres connection.',
      buckets: LATENCY_BUCKETS,
      registers: [registry]
    }),
    redisCommandDuration: new client.Histogram({
      name: 'redis_command_duration_seconds',
      help: 'Redis commands by command name and outcome (ok, error).',
      labelNames: ['command', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers: [registry]
    })
  }
}

/**
 * Gauges of a pg pool read at scrape time, and the acquisition time of every connection. pg's pool
 * reports no acquisition time itself, so `connect` is timed here (both its promise and its callback
 * form: Kysely uses the first, `pool.query` the second).
 */
export function instrumentPool (metrics: ServiceMetrics, pool: pg.Pool): void {
  const registry = metrics.registry
  if (registry.getSingleMetric('pg_pool_connections') === undefined) {
    new client.Gauge({
      name: 'pg_pool_connections',
      help: 'Postgres pool connections by state (in_use, idle).',
      labelNames: ['state'],
      registers: [registry],
      collect () {
        this.set({ state: 'in_use' }, pool.totalCount - pool.idleCount)
        this.set({ state: 'idle' }, pool.idleCount)
      }
    })
    new client.Gauge({
      name: 'pg_pool_waiting_requests',
      help: 'Callers waiting for a pooled Postgres connection.',
      registers: [registry],
      collect () { this.set(pool.waitingCount) }
    })
  }
  const connect = pool.connect.bind(pool) as (callback?: (err: Error | undefined, client: pg.PoolClient | undefined, release: () => void) => void) => Promise<pg.PoolClient> | undefined
  const histogram = metrics.pgAcquireDuration
  Object.assign(pool, {
    connect (callback?: (err: Error | undefined, client: pg.PoolClient | undefined, release: () => void) => void) {
      const stop = histogram.startTimer()
      if (typeof callback === 'function') {
        return connect((err, c, release) => { stop(); callback(err, c, release) })
      }
      return connect()!.finally(() => { stop() })
    }
  })
}

interface CommandLike { name: string, promise: Promise<unknown> }

/**
 * Times every command of an ioredis client (metrics), and makes a client span of each (tracing).
 * ioredis emits no event per command and its OpenTelemetry instrumentation patches the module only
 * when loaded with `require`, so its `sendCommand` is wrapped; the command name is the label (a
 * bounded set, Redis' own commands). Keys and arguments are never recorded.
 */
export function instrumentRedis (metrics: ServiceMetrics | null, redis: { sendCommand: (command: CommandLike, ...rest: unknown[]) => unknown }, service = 'pulse'): void {
  if (metrics === null && !tracingEnabled()) return
  const send = redis.sendCommand.bind(redis)
  const histogram = metrics?.redisCommandDuration
  redis.sendCommand = (command: CommandLike, ...rest: unknown[]) => {
    const start = process.hrtime.bigint()
    const name = String(command.name).toLowerCase()
    const span = tracingEnabled() ? tracer(service).startSpan(`redis ${name}`, { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'redis', 'db.operation.name': name } }, context.active()) : undefined
    const result = send(command, ...rest)
    command.promise.then(
      () => { histogram?.observe({ command: name, outcome: 'ok' }, Number(process.hrtime.bigint() - start) / 1e9); span?.end() },
      (error: Error) => {
        histogram?.observe({ command: name, outcome: 'error' }, Number(process.hrtime.bigint() - start) / 1e9)
        span?.setStatus({ code: SpanStatusCode.ERROR, message: error.message })
        span?.end()
      }
    )
    return result
  }
}

/**
 * A client span for every query on the pool's connections (tracing on). @opentelemetry/instrumentation-pg
 * patches `pg` only when it is loaded with `require`, which the kit's ESM import bypasses; the
 * pool's clients are wrapped as they connect instead. The statement text (with `$1` placeholders,
 * never the values) is recorded.
 */
export function tracePool (pool: pg.Pool, service: string): void {
  if (!tracingEnabled()) return
  const t = tracer(service)
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    Object.assign(client, {
      query (...args: unknown[]) {
        if (typeof args[args.length - 1] === 'function' || typeof args[0] !== 'string') return query(...args)
        const text = args[0]
        const span = t.startSpan(`pg ${text.slice(0, text.search(/\s|$/)).toLowerCase()}`, {
          kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.query.text': text.slice(0, 2000) }
        }, context.active())
        return (query(...args) as Promise<unknown>).then(
          (result) => { span.end(); return result },
          (error: Error) => { span.setStatus({ code: SpanStatusCode.ERROR, message: error.message }); span.end(); throw error }
        )
      }
    })
  })
}

export interface MetricsServerOptions {
  port: number
  host: string
}

/**
 * Serves `GET /metrics` (Prometheus text format) on its own port, apart from the API: the gateway
 * never routes to it, so the public never sees it; Prometheus scrapes each process directly.
 */
export async function startMetricsServer (registry: Registry, { port, host }: MetricsServerOptions): Promise<Server & { port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && !req.url?.startsWith('/metrics?'))) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    registry.metrics().then((text) => {
      res.writeHead(200, { 'content-type': registry.contentType }).end(text)
    }, (error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(error as Error).message}\n`)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  return Object.assign(server, { port: (server.address() as AddressInfo).port })
}
