import Fastify from 'fastify'
import { createServerOptions, listenUntilSignalled, metricsListenOptionsOf, runMain, startTracing, tracingOptionsOf } from '@pulse/service-kit'
import moodApp from './app.js'
import { loadMoodConfig } from './config.js'

runMain(async () => {
  const config = loadMoodConfig(process.env)
  // Before the app is built: its plugins trace only when the SDK is loaded (OTEL_EXPORTER_OTLP_ENDPOINT).
  const tracing = await startTracing({ service: 'mood', ...tracingOptionsOf(config) })
  const app = Fastify(createServerOptions(config))
  app.addHook('onClose', async () => { await tracing?.shutdown() })
  await app.register(moodApp, { config })
  await listenUntilSignalled(app, { host: config.HOST, port: config.PORT, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, ...metricsListenOptionsOf(config) })
})
