import pg from 'pg'

/** The bench's Postgres; each suite works in a database of its own next to this one. */
const BASE_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pulse_bench'

/** The URL of database `name` on the bench's Postgres server. */
export function databaseUrl (name: string): string {
  const url = new URL(BASE_DATABASE_URL)
  url.pathname = `/${name}`
  return url.toString()
}

/** Drops database `name` (its open connections ended first), if it exists. */
export async function dropDatabase (name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') })
  await admin.connect()
  try {
    await admin.query(`drop database if exists ${name} with (force)`)
  } finally {
    await admin.end()
  }
}
