import type { FastifyInstance } from 'fastify'
import { ConfigError } from './config.js'

export interface ListenOptions {
  host: string
  port: number
  shutdownTimeoutMs: number
}

/**
 * Listens, then on SIGTERM/SIGINT stops accepting connections, lets requests in flight finish,
 * closes pools and drains NATS (the plugins' onClose hooks) and exits 0. A shutdown that takes
 * longer than `shutdownTimeoutMs` exits 1.
 */
export async function listenUntilSignalled (app: FastifyInstance, { host, port, shutdownTimeoutMs }: ListenOptions): Promise<void> {
  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down: finishing requests in flight')
    setTimeout(() => {
      app.log.error('shutdown took too long; exiting')
      process.exit(1)
    }, shutdownTimeoutMs).unref()
    app.close().then(() => process.exit(0), (err: unknown) => {
      app.log.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
  await app.listen({ host, port })
}

/** Runs a process's main function; a bad configuration ends it with the message alone, exit 1. */
export function runMain (main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) console.error(error.message)
    else console.error(error)
    process.exit(1)
  })
}
