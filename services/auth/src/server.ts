import { listenUntilSignalled, metricsListenOptionsOf, runMain } from '@pulse/service-kit'
import Fastify from 'fastify'
import authApp from './app.js'
import { loadAuthConfig } from './config.js'
import { authServerOptions } from './server-options.js'

runMain(async () => {
  const config = loadAuthConfig()
  // Only the gateway reaches auth (NetworkPolicy); it sets X-Forwarded-Proto itself after removing
  // the client's, so the direct peer is trusted: the Secure session cookie then survives the hop.
  const app = Fastify(authServerOptions(config, { trustProxy: (_address: string, hop: number) => hop === 0 }))
  await app.register(authApp, { config })
  await listenUntilSignalled(app, { host: config.HOST, port: config.PORT, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS, ...metricsListenOptionsOf(config) })
})
