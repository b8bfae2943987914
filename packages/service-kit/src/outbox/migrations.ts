import { sql, type Kysely, type Migration } from 'kysely'

/** The outbox table every event-publishing service has; frozen like any migration. */
export const outboxMigrations: Record<string, Migration> = {
  '0000-00-00T00-00_pulse_outbox': {
    async up (db: Kysely<any>) {
      await db.schema.createTable('outbox')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('payload', 'jsonb', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('sent_at', 'timestamptz')
        .execute()
      await sql`create index outbox_unsent on outbox (id) where sent_at is null`.execute(db)
    },
    async down (db: Kysely<any>) {
      await db.schema.dropTable('outbox').execute()
    }
  },
  /** The trace context and request id of the request that wrote the event, sent on with it. */
  '2026-12-02T03-00_pulse_outbox_headers': {
    async up (db: Kysely<any>) {
      await db.schema.alterTable('outbox').addColumn('headers', 'jsonb').execute()
    },
    async down (db: Kysely<any>) {
      await db.schema.alterTable('outbox').dropColumn('headers').execute()
    }
  }
}
