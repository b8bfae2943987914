import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { DatabaseConfigProperties, loadConfig, migrateToLatest, runMain } from '@pulse/service-kit'
import { NOTIFY_SCHEMA } from './database.js'

export const MIGRATIONS = new URL('./migrations', import.meta.url)

/** Brings this service's schema to the latest migration; tests call it on their own database. */
export async function migrate (databaseUrl: string, log?: (line: string) => void): Promise<void> {
  await migrateToLatest({ url: databaseUrl, schema: NOTIFY_SCHEMA, folder: MIGRATIONS, log })
}

// The migration step (`pnpm migrate`, a Compose one-shot, a Kubernetes Job) runs once per deploy:
// the server never migrates, so replicas starting together do not race. Node gives this module its
// real path, so the script's path is compared resolved (a symlinked install runs it too).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  runMain(async () => {
    const { DATABASE_URL } = loadConfig(DatabaseConfigProperties, process.env)
    await migrate(DATABASE_URL, (line) => { process.stdout.write(`${line}\n`) })
  })
}
