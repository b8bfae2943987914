import { migrationStep } from '@pulse/service-kit'
import { loadTwitchIngestConfig } from '../config.js'
import { SCHEMA } from './database.js'

/**
 * The service's migrations, `migrate(databaseUrl, log?)`, and the migration step when run as a
 * script (its whole configuration checked, as the server's).
 */
export const { MIGRATIONS, migrate } = migrationStep(import.meta.url, SCHEMA, (env) => loadTwitchIngestConfig(env).DATABASE_URL)
