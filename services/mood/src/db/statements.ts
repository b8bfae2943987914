import { CompiledQuery, type Transaction } from 'kysely'
import type { createPool } from '@pulse/service-kit'
import type { Database } from './database.js'

/** The pg pool the kit makes (Kysely runs over the same one). */
export type Pool = ReturnType<typeof createPool>

/**
 * A statement of a hot path, written out in SQL. With a name, run on the pool, it is a named
 * prepared statement: each connection parses it once, and after a few runs Postgres keeps one
 * plan for it, where an unnamed statement (all that Kysely sends) is parsed and planned again on
 * every request — for the statements of `GET /mood`, more than it costs to run them. Without a
 * name it is planned with its values every time (for statements whose best plan depends on them).
 * One name, one text: pg refuses a name reused for another text.
 */
export interface Statement {
  readonly name?: string
  readonly text: string
}

/** Runs statements: on the pool as prepared statements, or plainly inside a Kysely transaction. */
export interface Runner {
  rows: <R>(statement: Statement, values: unknown[]) => Promise<R[]>
}

/**
 * Postgres refuses a prepared statement whose result columns changed type since it was prepared
 * (`cached plan must not change result type`, SQLSTATE 0A000), on every connection that prepared it.
 */
function isStalePlan (error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '0A000'
}

/** Prepared statements on the pool; each one runs in its own implicit transaction. */
export function poolRunner (pool: Pool): Runner {
  return {
    async rows<R> ({ name, text }: Statement, values: unknown[]): Promise<R[]> {
      try {
        return (await pool.query({ name, text, values })).rows as R[]
      } catch (error) {
        if (name === undefined || !isStalePlan(error)) throw error
        // A migration changed a column the statement answers while this process ran. pool.query
        // has dropped the connection that failed (it drops a connection on any error), so the
        // statement is prepared afresh on the next one; this request runs it unprepared.
        return (await pool.query({ text, values })).rows as R[]
      }
    }
  }
}

/** The same statements inside a transaction: plain statements on the transaction's connection. */
export function transactionRunner (trx: Transaction<Database>): Runner {
  return {
    async rows<R> ({ text }: Statement, values: unknown[]): Promise<R[]> {
      return (await trx.executeQuery(CompiledQuery.raw(text, values))).rows as R[]
    }
  }
}
