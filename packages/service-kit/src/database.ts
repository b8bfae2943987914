import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { FileMigrationProvider, Kysely, Migrator, PostgresDialect, sql, type Migration, type MigrationResultSet } from 'kysely'
import pg from 'pg'
import { outboxMigrations } from './outbox/migrations.js'

export interface DatabaseOptions {
  url: string
  /** The Postgres schema this service owns; every query runs in it (search_path). */
  schema: string
  poolMax?: number
  connectTimeoutMs?: number
  /**
   * Set on every pooled connection (0 or unset: Postgres' default, none). A statement past
   * `statementTimeoutMs` is cancelled, one waiting longer than `lockTimeoutMs` for a lock gives up,
   * and a connection idle inside an open transaction for `idleInTransactionTimeoutMs` is closed by
   * the server, releasing its locks: a slow or stuck database fails requests instead of holding them.
   */
  statementTimeoutMs?: number
  lockTimeoutMs?: number
  idleInTransactionTimeoutMs?: number
  onPoolError?: (error: Error) => void
}

/** Postgres returns bigint and numeric as strings; counts and ids that fit a double are numbers here. */
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value))

/** A pg pool that never crashes the process when an idle client dies (docs/pitfalls.md, "Postgres"). */
export function createPool ({
  url, schema, poolMax = 10, connectTimeoutMs = 2000, statementTimeoutMs, lockTimeoutMs, idleInTransactionTimeoutMs, onPoolError
}: DatabaseOptions): pg.Pool {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`)
  // Sent as start-up parameters of each connection: no extra round trip, and no pooled connection without them.
  const timeouts = {
    ...(statementTimeoutMs !== undefined && statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
    ...(lockTimeoutMs !== undefined && lockTimeoutMs > 0 ? { lock_timeout: lockTimeoutMs } : {}),
    ...(idleInTransactionTimeoutMs !== undefined && idleInTransactionTimeoutMs > 0 ? { idle_in_transaction_session_timeout: idleInTransactionTimeoutMs } : {})
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    options: `-c search_path=${schema}`,
    ...timeouts
  })
  pool.on('error', (error) => onPoolError?.(error))
  // A client that is checked out when its connection dies emits 'error' on itself, not on the
  // pool; without a listener that would crash the process. The query in flight still rejects.
  pool.on('connect', (client) => { client.on('error', (error) => onPoolError?.(error)) })
  return pool
}

/** The pool options of the database settings every service has (DatabaseConfigProperties). */
export function databaseOptionsOf (config: {
  DATABASE_URL: string, DATABASE_POOL_MAX: number, DATABASE_CONNECT_TIMEOUT_MS: number,
  DATABASE_STATEMENT_TIMEOUT_MS: number, DATABASE_LOCK_TIMEOUT_MS: number, DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: number
}, schema: string): Omit<DatabaseOptions, 'onPoolError'> {
  return {
    url: config.DATABASE_URL,
    schema,
    poolMax: config.DATABASE_POOL_MAX,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    lockTimeoutMs: config.DATABASE_LOCK_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS
  }
}

export function createDatabase<DB> (options: DatabaseOptions): Kysely<DB> {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool: createPool(options) }) })
}

export interface MigrateOptions {
  url: string
  schema: string
  /** The folder of this service's migrations (timestamp-named files with up/down). */
  folder: string | URL
  log?: (line: string) => void
}

/** Creates the database named in the URL when it does not exist yet (a fresh machine). */
export async function ensureDatabaseExists (url: string): Promise<void> {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''))
  if (name === '') return
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name])
    if (found.rowCount === 0) {
      await client.query(`create database "${name.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error // created meanwhile by another service's migration
      })
    }
  } finally {
    await client.end()
  }
}

/**
 * Runs the kit's migrations (the outbox) and then the service's own, in the service's schema.
 * This is the `migrate` step: never run implicitly at start-up by every replica.
 */
export async function migrateToLatest ({ url, schema, folder, log = () => {} }: MigrateOptions): Promise<MigrationResultSet> {
  await ensureDatabaseExists(url)
  const db = createDatabase<unknown>({ url, schema, poolMax: 1 })
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db)
    const migrationFolder = typeof folder === 'string' ? folder : fileURLToPath(folder)
    const files = new FileMigrationProvider({ fs, path, migrationFolder })
    const migrator = new Migrator({
      db,
      migrationTableSchema: schema,
      allowUnorderedMigrations: true,
      provider: {
        async getMigrations (): Promise<Record<string, Migration>> {
          return { ...outboxMigrations, ...(await files.getMigrations()) }
        }
      }
    })
    const result = await migrator.migrateToLatest()
    for (const r of result.results ?? []) log(`${schema}: migration ${r.migrationName} ${r.status}`)
    if (result.error !== undefined) throw result.error
    return result
  } finally {
    await db.destroy()
  }
}
