import { createServerOptions, runMain, serveService } from '@pulse/service-kit'
import gatewayApp from './app.js'
import { loadGatewayConfig, trustProxyOf } from './config.js'

runMain(async () => {
  await serveService({
    service: 'gateway',
    config: loadGatewayConfig(),
    serverOptions: (config) => createServerOptions(config, { trustProxy: trustProxyOf(config) }),
    register: async (server, config) => await server.register(gatewayApp, { config })
  })
})
