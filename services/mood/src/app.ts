import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import { AUTH_STREAM } from '@pulse/contracts'
import { databaseOptionsOf, databasePlugin, natsPlugin, serveUserData, serviceOptionsOf, servicePlugin } from '@pulse/service-kit'
import type { MoodConfig } from './config.js'
import { MOOD_SCHEMA, type Database } from './db/database.js'
import { poolRunner } from './db/statements.js'
import { serveDayLogged } from './events/day-logged.js'
import { consumeUserDeletions } from './events/user-deleted.js'
import { pageUserEntries } from './repositories/account-data.js'
import moodRoutes from './routes/mood.js'

export interface MoodAppOptions {
  config: MoodConfig
  /** The clock, milliseconds since the epoch: tests set "now" instead of waiting for days to pass. */
  now?: () => number
}

/** The mood service as a plugin: registers the kit, the routes, the deletion consumer and the export responder; never listens (server.ts does). */
export default async function moodApp (app: FastifyInstance, { config, now = Date.now }: MoodAppOptions) {
  await app.register(servicePlugin, serviceOptionsOf(config, {
    prefix: 'MOOD',
    audience: 'mood',
    openapi: { title: 'Pulse mood', description: 'Mood entries and streaks of the logged-in user.' }
  }))

  await app.register(databasePlugin, databaseOptionsOf(config, MOOD_SCHEMA))
  // The hot paths run their statements on the pool as named prepared statements
  // (db/statements.ts); everything else goes through Kysely over the same pool.
  // NATS only for the account deletions, data exports and notify's reminder question: entries are read and written without it, so a replica
  // that lost NATS stays ready (its consumer resumes when NATS is back).
  await app.register(natsPlugin, { url: config.NATS_URL, name: 'mood', prefix: config.NATS_PREFIX, streams: [AUTH_STREAM], maxDeliver: config.NATS_MAX_DELIVER })
  app.readiness.delete('nats')
  await app.register(moodRoutes, { config, now, db: app.db as Kysely<Database>, statements: poolRunner(app.pgPool) })
  consumeUserDeletions(app, app.db as Kysely<Database>)
  serveDayLogged(app, app.db as Kysely<Database>)
  // Entries with notes of up to 1,000 characters: 200 a page stay far below NATS's 1 MB.
  serveUserData(app, 'mood', async (userId, cursor) => await pageUserEntries(app.db as Kysely<Database>, userId, cursor, 200))
}
