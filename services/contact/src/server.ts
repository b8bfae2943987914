import { runMain, serveService } from '@pulse/service-kit'
import app from './app.js'
import { loadContactConfig } from './config.js'

runMain(async () => {
  await serveService({ service: 'contact', config: loadContactConfig(process.env), register: async (server, config) => await server.register(app, { config }) })
})
