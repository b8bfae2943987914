import { sql, type Kysely } from 'kysely'

// A connection whose grant the user took back at Twitch keeps its row (status invalid, so the
// dashboard can say so) but loses its tokens: the access token may now be null.
export async function up (db: Kysely<any>): Promise<void> {
  await sql`alter table connections alter column access_token drop not null`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`delete from connections where access_token is null`.execute(db)
  await sql`alter table connections alter column access_token set not null`.execute(db)
}
