import { createServerOptions, listenUntilSignalled, metricsListenOptionsOf, runMain } from '@pulse/service-kit'
import Fastify from 'fastify'
import gatewayApp from './app.js'
import { loadGatewayConfig, trustProxyOf } from './config.js'

runMain(async () => {
  const config = loadGatewayConfig()
  const app = Fastify(createServerOptions(config, { trustProxy: trustProxyOf(config) }))
  await app.register(gatewayApp, { config })
  await listenUntilSignalled(app, { host: config.HOST, port: config.PORT, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, ...metricsListenOptionsOf(config) })
})
