import Fastify from 'fastify'
import { createServerOptions, listenUntilSignalled, metricsListenOptionsOf, runMain, startTracing, tracingOptionsOf } from '@pulse/service-kit'
import app from './app.js'
import { loadNotifyConfig } from './config.js'

runMain(async () => {
  const config = loadNotifyConfig(process.env)
  // Before the app is built: its plugins trace only when the SDK is loaded (OTEL_EXPORTER_OTLP_ENDPOINT).
  const tracing = await startTracing({ service: 'notify', ...tracingOptionsOf(config) })
  const server = Fastify(createServerOptions(config))
  server.addHook('onClose', async () => { await tracing?.shutdown() })
  await server.register(app, { config })
  await listenUntilSignalled(server, { host: config.HOST, port: config.PORT, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, ...metricsListenOptionsOf(config) })
})
