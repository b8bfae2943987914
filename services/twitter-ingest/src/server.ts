import { runMain, serveService } from '@pulse/service-kit'
import app from './app.js'
import { loadTwitterIngestConfig } from './config.js'

runMain(async () => {
  await serveService({ service: 'twitter-ingest', config: loadTwitterIngestConfig(process.env), register: async (server, config) => await server.register(app, { config }) })
})
