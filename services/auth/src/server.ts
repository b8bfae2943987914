import { listenUntilSignalled, metricsListenOptionsOf, runMain, startTracing, tracingOptionsOf } from '@pulse/service-kit'
import Fastify from 'fastify'
import { loadAuthConfig } from './config.js'
import { authServerOptions } from './server-options.js'

runMain(async () => {
  const config = loadAuthConfig()
  // Before the app is built: its plugins trace only when the SDK is loaded (OTEL_EXPORTER_OTLP_ENDPOINT).
  const tracing = await startTracing({ service: 'auth', ...tracingOptionsOf(config) })
  // Loaded after tracing started: its OAuth 2.0 client requires `node:http`, which the SDK patches as it is required.
  const { default: authApp } = await import('./app.js')
  // Only the gateway reaches auth (NetworkPolicy); it sets X-Forwarded-Proto itself after removing
  // the client's, so the direct peer is trusted: the Secure session cookie then survives the hop.
  const app = Fastify(authServerOptions(config, { trustProxy: (_address: string, hop: number) => hop === 0 }))
  app.addHook('onClose', async () => { await tracing?.shutdown() })
  await app.register(authApp, { config })
  await listenUntilSignalled(app, { host: config.HOST, port: config.PORT, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, ...metricsListenOptionsOf(config) })
})
