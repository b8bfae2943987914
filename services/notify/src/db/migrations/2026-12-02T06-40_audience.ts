import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  // What notify saw of a user's Twitch audience: the first refresh is a baseline (nothing is
  // announced for channels already live or milestones already behind), later ones are compared.
  await db.schema.createTable('audience_state')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('followers_milestone', 'bigint')
    .addColumn('subscribers_milestone', 'bigint')
    .addColumn('first_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  // Followed streams already seen live: a stream is announced once, whatever the refreshes.
  await db.schema.createTable('followed_streams')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('followed_streams_pkey', ['user_id', 'stream_id'])
    .execute()
  await sql`create index followed_streams_seen on followed_streams (seen_at)`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('followed_streams').execute()
  await db.schema.dropTable('audience_state').execute()
}
