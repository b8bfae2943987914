import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import { databaseOptionsOf, databasePlugin, servicePlugin } from '@pulse/service-kit'
import type { MoodConfig } from './config.js'
import { MOOD_SCHEMA, type Database } from './db/database.js'
import { poolRunner } from './db/statements.js'
import moodRoutes from './routes/mood.js'

export interface MoodAppOptions {
  config: MoodConfig
  /** The clock, milliseconds since the epoch: tests set "now" instead of waiting for days to pass. */
  now?: () => number
}

/** The mood service as a plugin: registers the kit and the routes; never listens (server.ts does). */
export default async function moodApp (app: FastifyInstance, { config, now = Date.now }: MoodAppOptions) {
  const identitySecrets = config.IDENTITY_SECRET_PREVIOUS === undefined
    ? [config.IDENTITY_SECRET]
    : [config.IDENTITY_SECRET, config.IDENTITY_SECRET_PREVIOUS]
  await app.register(servicePlugin, {
    prefix: 'MOOD',
    audience: 'mood',
    identitySecrets,
    testProbes: config.TEST_PROBES,
    metrics: config.METRICS_PORT !== undefined,
    openapi: { title: 'Pulse mood', description: 'Mood entries and streaks of the logged-in user.' }
  })

  await app.register(databasePlugin, databaseOptionsOf(config, MOOD_SCHEMA))
  // The hot paths run their statements on the pool as named prepared statements
  // (db/statements.ts); everything else goes through Kysely over the same pool.
  await app.register(moodRoutes, { config, now, db: app.db as Kysely<Database>, statements: poolRunner(app.pgPool) })
}
