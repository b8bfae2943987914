import { runMain, serveService } from '@pulse/service-kit'
import moodApp from './app.js'
import { loadMoodConfig } from './config.js'

runMain(async () => {
  await serveService({ service: 'mood', config: loadMoodConfig(process.env), register: async (server, config) => await server.register(moodApp, { config }) })
})
