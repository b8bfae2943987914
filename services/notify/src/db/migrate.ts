import { migrationStep } from '@pulse/service-kit'
import { NOTIFY_SCHEMA } from './database.js'

/** The service's migrations, `migrate(databaseUrl, log?)`, and the migration step when run as a script. */
export const { MIGRATIONS, migrate } = migrationStep(import.meta.url, NOTIFY_SCHEMA)
