import type { FastifyInstance } from 'fastify'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { createPool, servicePlugin } from '@pulse/service-kit'
import { MOOD_SCHEMA, type MoodConfig } from './config.js'
import type { Database } from './db/database.js'
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
    identitySecrets,
    openapi: { title: 'Pulse mood', description: 'Mood entries and streaks of the logged-in user.' }
  })

  // What the kit's databasePlugin does, keeping hold of the pool: the hot paths run their
  // statements on it as named prepared statements (db/statements.ts), everything else goes
  // through Kysely over the same pool.
  const pool = createPool({
    url: config.DATABASE_URL,
    schema: MOOD_SCHEMA,
    poolMax: config.DATABASE_POOL_MAX,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    onPoolError: (err) => app.log.error({ err }, 'idle Postgres client failed')
  })
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  app.readiness.set('postgres', async () => { await sql`select 1`.execute(db) })
  // Kysely's destroy only ends the pool, and not at all when Kysely never ran a query.
  app.addHook('onClose', async () => { await pool.end() })

  await app.register(moodRoutes, { config, now, db, statements: poolRunner(pool) })
}
