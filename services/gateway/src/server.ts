import { createServerOptions, listenUntilSignalled, metricsListenOptionsOf, runMain, startTracing, tracingOptionsOf } from '@pulse/service-kit'
import Fastify from 'fastify'
import gatewayApp from './app.js'
import { loadGatewayConfig, trustProxyOf } from './config.js'

runMain(async () => {
  const config = loadGatewayConfig()
  // Before the app is built: its plugins trace only when the SDK is loaded (OTEL_EXPORTER_OTLP_ENDPOINT).
  const tracing = await startTracing({ service: 'gateway', ...tracingOptionsOf(config) })
  const app = Fastify(createServerOptions(config, { trustProxy: trustProxyOf(config) }))
  app.addHook('onClose', async () => { await tracing?.shutdown() })
  await app.register(gatewayApp, { config })
  await listenUntilSignalled(app, { host: config.HOST, port: config.PORT, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, ...metricsListenOptionsOf(config) })
})
