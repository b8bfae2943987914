import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  // EventSub message ids seen at the webhook: a second sight of an id is a replay (or Twitch's
  // retry of what was already taken) and is not handed on again.
  await db.schema.createTable('eventsub_received')
    .addColumn('message_id', 'text', (c) => c.primaryKey())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('eventsub_received_at').on('eventsub_received').column('received_at').execute()

  // Messages the consumer applied, written in the transaction that applies one: a redelivery by
  // JetStream, on this replica or another, finds it and changes nothing.
  await db.schema.createTable('eventsub_applied')
    .addColumn('message_id', 'text', (c) => c.primaryKey())
    .addColumn('applied_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('eventsub_applied_at').on('eventsub_applied').column('applied_at').execute()

  // One row per time a channel was live, from stream.online to stream.offline.
  await db.schema.createTable('stream_sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('broadcaster_id', 'text', (c) => c.notNull())
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ended_at', 'timestamptz')
    .addColumn('game_id', 'text')
    .addColumn('game_name', 'text')
    .execute()
  // At most one open session per channel; a stream's online message opens it once.
  await sql`create unique index stream_sessions_open on stream_sessions (user_id) where ended_at is null`.execute(db)
  await sql`create unique index stream_sessions_stream on stream_sessions (user_id, stream_id)`.execute(db)
  await sql`create index stream_sessions_user_started on stream_sessions (user_id, started_at desc)`.execute(db)

  // Viewer counts sampled while live, one per session and sampling slot whichever replica took it.
  await db.schema.createTable('stream_samples')
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('stream_sessions.id').onDelete('cascade'))
    .addColumn('slot', 'bigint', (c) => c.notNull())
    .addColumn('viewers', 'bigint', (c) => c.notNull())
    .addColumn('sampled_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('stream_samples_pkey', ['session_id', 'slot'])
    .execute()

  // Who reconciles the EventSub subscriptions now: one replica at a time, until the lease expires.
  await db.schema.createTable('eventsub_leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('eventsub_leases').execute()
  await db.schema.dropTable('stream_samples').execute()
  await db.schema.dropTable('stream_sessions').execute()
  await db.schema.dropTable('eventsub_applied').execute()
  await db.schema.dropTable('eventsub_received').execute()
}
