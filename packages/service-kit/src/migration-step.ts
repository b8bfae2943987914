import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { DatabaseConfigProperties, loadConfig } from './config.js'
import { migrateToLatest } from './database.js'
import { runMain } from './run.js'

export interface MigrationStep {
  /** The service's migrations: the `migrations` folder beside its migrate module. */
  MIGRATIONS: URL
  /** Brings the service's schema to the latest migration; tests call it on their own database. */
  migrate: (databaseUrl: string, log?: (line: string) => void) => Promise<void>
}

/**
 * A service's `db/migrate.ts`: its migrations (the folder beside `moduleUrl`) in its `schema`, and,
 * when that module is the script Node was started with, the migration step itself. The step
 * (`pnpm migrate`, a Compose one-shot, a Kubernetes Job) runs once per deploy: the server never
 * migrates, so replicas starting together do not race. Node gives the module its real path, so
 * the script's path is compared resolved (a symlinked install runs it too). `databaseUrl` reads the
 * database to migrate from the environment (by default only the database settings are read).
 */
export function migrationStep (
  moduleUrl: string, schema: string,
  databaseUrl: (env: NodeJS.ProcessEnv) => string = (env) => loadConfig(DatabaseConfigProperties, env).DATABASE_URL
): MigrationStep {
  const MIGRATIONS = new URL('./migrations', moduleUrl)
  const migrate = async (url: string, log?: (line: string) => void) => { await migrateToLatest({ url, schema, folder: MIGRATIONS, log }) }
  if (process.argv[1] !== undefined && moduleUrl === pathToFileURL(realpathSync(process.argv[1])).href) {
    runMain(async () => { await migrate(databaseUrl(process.env), (line) => { process.stdout.write(`${line}\n`) }) })
  }
  return { MIGRATIONS, migrate }
}
