import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { sql, type Kysely } from 'kysely'
import { createDatabase, type DatabaseOptions } from '../database.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** This service's Postgres schema through Kysely; repositories take it (or a transaction). */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service types its repositories with its own Database
    db: Kysely<any>
  }
}

/** Postgres through pg + Kysely: checked by /ready, destroyed on close. */
async function databasePlugin (app: FastifyInstance, options: Omit<DatabaseOptions, 'onPoolError'>) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see the decorator above
  const db = createDatabase<any>({ ...options, onPoolError: (err) => app.log.error({ err }, 'idle Postgres client failed') })
  app.decorate('db', db)
  app.readiness.set('postgres', async () => { await sql`select 1`.execute(db) })
  app.addHook('onClose', async () => { await db.destroy() })
}

export default fp(databasePlugin, { name: 'pulse-database', fastify: '5.x', dependencies: ['pulse-health'] })
