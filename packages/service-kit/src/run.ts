import type { FastifyInstance } from 'fastify'
import { ConfigError } from './config.js'
import { startMetricsServer } from './metrics.js'
import { metricsOf } from './plugins/metrics.js'

export interface ListenOptions {
  host: string
  port: number
  shutdownTimeoutMs: number
  /** METRICS_PORT: serve `app.metrics` there (the app must have been built with metrics on). */
  metricsPort?: number
  /** METRICS_HOST; unset: `host`. */
  metricsHost?: string
}

/**
 * Listens, then on SIGTERM/SIGINT stops accepting connections, lets requests in flight finish,
 * closes pools and drains NATS (the plugins' onClose hooks) and exits 0. A shutdown that takes
 * longer than `shutdownTimeoutMs` exits 1.
 */
export async function listenUntilSignalled (app: FastifyInstance, { host, port, shutdownTimeoutMs, metricsPort, metricsHost }: ListenOptions): Promise<void> {
  let closing = false
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down: finishing requests in flight')
    setTimeout(() => {
      app.log.error('shutdown took too long; exiting')
      process.exit(1)
    }, shutdownTimeoutMs).unref()
    metricsServer?.close()
    app.close().then(() => process.exit(0), (err: unknown) => {
      app.log.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
  await app.listen({ host, port })
  const metrics = metricsOf(app)
  if (metricsPort !== undefined && metrics !== null) {
    metricsServer = await startMetricsServer(metrics.registry, { port: metricsPort, host: metricsHost ?? host })
    app.log.info({ port: metricsServer.port }, 'metrics served at /metrics')
  }
}

/** The metrics part of ListenOptions from the settings every service has. */
export function metricsListenOptionsOf (config: { METRICS_PORT?: number, METRICS_HOST?: string }): Pick<ListenOptions, 'metricsPort' | 'metricsHost'> {
  return { metricsPort: config.METRICS_PORT, metricsHost: config.METRICS_HOST }
}

/** Runs a process's main function; a bad configuration ends it with the message alone, exit 1. */
export function runMain (main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) console.error(error.message)
    else console.error(error)
    process.exit(1)
  })
}
