import { buildSimApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { simLogger } from './logger.js'

/**
 * The simulator as a process, started by the local stack: PORT (3100), HOST (127.0.0.1),
 * SIM_SEED (42), SIM_CONTROL=true to serve /_sim, SIM_X_NAMING (tweet|post), LOG_LEVEL.
 */
async function main (): Promise<void> {
  const config = loadConfig(process.env)
  const app = buildSimApp({ seed: config.seed, control: config.control, xNaming: config.xNaming, logger: simLogger(config.logLevel) })

  // The same shutdown as @pulse/service-kit's listenUntilSignalled, written out here: the kit
  // would bring Postgres, NATS and TypeBox into a process that needs none of them.
  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'provider simulator stopping')
    setTimeout(() => {
      app.log.error('provider simulator took too long to stop')
      process.exit(1)
    }, 10_000).unref()
    app.close().then(() => process.exit(0), (err: unknown) => {
      app.log.error({ err }, 'provider simulator failed to stop')
      process.exit(1)
    })
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)

  await app.listen({ port: config.port, host: config.host })
  app.log.info({ seed: config.seed, control: config.control }, 'provider simulator ready')
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error)
  process.exit(1)
})
