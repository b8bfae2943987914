import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Kysely, PostgresDialect, sql } from 'kysely'
import type pg from 'pg'
import { createPool, type DatabaseOptions } from '../database.js'
import { instrumentPool, tracePool } from '../metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** This service's Postgres schema through Kysely; repositories take it (or a transaction). */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service types its repositories with its own Database
    db: Kysely<any>
    /** The pg pool under `db`, for statements Kysely cannot send (named prepared statements). */
    pgPool: pg.Pool
  }
}

/** Postgres through pg + Kysely: checked by /ready, destroyed on close. */
async function databasePlugin (app: FastifyInstance, options: Omit<DatabaseOptions, 'onPoolError'>) {
  const pool = createPool({ ...options, onPoolError: (err) => app.log.error({ err }, 'idle Postgres client failed') })
  if (app.metrics !== null) instrumentPool(app.metrics, pool)
  tracePool(pool, options.schema)
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see the decorator above
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) })
  app.decorate('db', db)
  app.decorate('pgPool', pool)
  app.readiness.set('postgres', async () => { await sql`select 1`.execute(db) })
  // Kysely's destroy ends the pool only when Kysely itself ran a query; end it either way.
  app.addHook('onClose', async () => { await db.destroy(); if (!pool.ended) await pool.end() })
}

export default fp(databasePlugin, { name: 'pulse-database', fastify: '5.x', dependencies: ['pulse-health', 'pulse-metrics'] })
