import Fastify from 'fastify'
import { createServerOptions, listenUntilSignalled, metricsListenOptionsOf, runMain } from '@pulse/service-kit'
import moodApp from './app.js'
import { loadMoodConfig } from './config.js'

runMain(async () => {
  const config = loadMoodConfig(process.env)
  const app = Fastify(createServerOptions(config))
  await app.register(moodApp, { config })
  await listenUntilSignalled(app, { host: config.HOST, port: config.PORT, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, ...metricsListenOptionsOf(config) })
})
