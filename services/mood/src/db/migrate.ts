import { DatabaseConfigProperties, loadConfig, migrateToLatest, runMain } from '@pulse/service-kit'
import { MOOD_SCHEMA } from '../config.js'

// The migration step (`pnpm migrate`, a compose one-shot, a Kubernetes Job): the server never migrates.
runMain(async () => {
  const config = loadConfig(DatabaseConfigProperties, process.env)
  await migrateToLatest({
    url: config.DATABASE_URL,
    schema: MOOD_SCHEMA,
    folder: new URL('./migrations', import.meta.url),
    log: (line) => { process.stdout.write(`${line}\n`) }
  })
})
