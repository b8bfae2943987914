import { runMain, serveService } from '@pulse/service-kit'
import app from './app.js'
import { loadTwitchIngestConfig } from './config.js'

runMain(async () => {
  await serveService({ service: 'twitch-ingest', config: loadTwitchIngestConfig(process.env), register: async (server, config) => await server.register(app, { config }) })
})
