import Fastify from 'fastify'
import { createServerOptions, listenUntilSignalled, metricsListenOptionsOf, runMain } from '@pulse/service-kit'
import app from './app.js'
import { loadTwitterIngestConfig } from './config.js'

runMain(async () => {
  const config = loadTwitterIngestConfig(process.env)
  const server = Fastify(createServerOptions(config))
  await server.register(app, { config })
  await listenUntilSignalled(server, { host: config.HOST, port: config.PORT, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, ...metricsListenOptionsOf(config) })
})
