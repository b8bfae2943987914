import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { listenUntilSignalled, metricsListenOptionsOf } from './run.js'
import { createServerOptions, type ServerOptionsConfig } from './server-options.js'
import { startTracing, tracingOptionsOf } from './tracing.js'

/** The settings a service's process reads to run (BaseConfigProperties has them all). */
export type ServeSettings = ServerOptionsConfig & Parameters<typeof tracingOptionsOf>[0] & Parameters<typeof metricsListenOptionsOf>[0] & {
  HOST: string
  PORT: number
  SHUTDOWN_TIMEOUT_MS: number
}

export interface ServeOptions<C extends ServeSettings> {
  /** The service's name in traces. */
  service: string
  config: C
  /** Registers the service's app on the server. */
  register: (server: FastifyInstance, config: C) => Promise<unknown>
  /** The server's options (default: the kit's, from the settings). */
  serverOptions?: (config: C) => FastifyServerOptions
}

/**
 * A service's process (its `server.ts`): starts tracing, builds the server and registers the app,
 * listens until a signal, and shuts tracing down when the server closes. Tracing starts before the
 * app is built: its plugins trace only when the SDK is loaded (OTEL_EXPORTER_OTLP_ENDPOINT).
 */
export async function serveService<C extends ServeSettings> ({ service, config, register, serverOptions = createServerOptions }: ServeOptions<C>): Promise<void> {
  const tracing = await startTracing({ service, ...tracingOptionsOf(config) })
  const server = Fastify(serverOptions(config))
  server.addHook('onClose', async () => { await tracing?.shutdown() })
  await register(server, config)
  await listenUntilSignalled(server, { host: config.HOST, port: config.PORT, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, ...metricsListenOptionsOf(config) })
}
