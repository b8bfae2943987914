import { runMain, serveService } from '@pulse/service-kit'
import notifyApp from './app.js'
import { loadNotifyConfig } from './config.js'

runMain(async () => {
  await serveService({ service: 'notify', config: loadNotifyConfig(process.env), register: async (server, config) => await server.register(notifyApp, { config }) })
})
