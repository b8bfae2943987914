import { migrateToLatest, runMain } from '@pulse/service-kit'
import { loadTwitchIngestConfig } from '../config.js'
import { SCHEMA } from './database.js'

export const MIGRATIONS = new URL('./migrations', import.meta.url)

/** The `migrate` step: run once per deploy (a Job, a compose one-shot), never by every replica. */
export async function migrate (databaseUrl: string, log?: (line: string) => void): Promise<void> {
  await migrateToLatest({ url: databaseUrl, schema: SCHEMA, folder: MIGRATIONS, log })
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain(async () => {
    const config = loadTwitchIngestConfig(process.env)
    await migrate(config.DATABASE_URL, (line) => { process.stdout.write(`${line}\n`) })
  })
}
