import { sql, type Kysely } from 'kysely'

/**
 * Rows of every table of `schema` (the outbox included) whose text mentions `text` (a user id), per
 * table: each row is cast to text, so no column and no JSON payload is left out.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any service's database
export async function rowsMentioning (db: Kysely<any>, schema: string, text: string): Promise<Record<string, number>> {
  const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = ${schema} and table_type = 'BASE TABLE'`.execute(db)
  const found: Record<string, number> = {}
  for (const { table_name: table } of tables.rows) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(`${schema}.${table}`)} r where r::text like ${`%${text}%`}`.execute(db)
    if (rows[0]!.n > 0) found[table] = rows[0]!.n
  }
  return found
}
