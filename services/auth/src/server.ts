import { runMain, serveService } from '@pulse/service-kit'
import { loadAuthConfig } from './config.js'
import { authServerOptions } from './server-options.js'

runMain(async () => {
  await serveService({
    service: 'auth',
    config: loadAuthConfig(),
    // Only the gateway reaches auth (NetworkPolicy); it sets X-Forwarded-Proto itself after removing
    // the client's, so the direct peer is trusted: the Secure session cookie then survives the hop.
    serverOptions: (config) => authServerOptions(config, { trustProxy: (_address: string, hop: number) => hop === 0 }),
    register: async (server, config) => {
      // Loaded here, after serveService started tracing: auth's OAuth 2.0 client requires `node:http`,
      // which the tracing SDK patches as it is required (the kit's tracing.ts).
      const { default: authApp } = await import('./app.js')
      await server.register(authApp, { config })
    }
  })
})
