import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.createTable('submissions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('new').check(sql`status in ('new', 'read', 'archived', 'spam')`))
    .addColumn('honeypot_filled', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('client_ip', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    // One message per key: concurrent retries insert one row and the others find it.
    .addColumn('idempotency_key', 'text', (c) => c.unique())
    .addColumn('request_fingerprint', 'text')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  // The admin list: newest first, all or one status.
  await sql`create index submissions_received on submissions (received_at desc, id desc)`.execute(db)
  await sql`create index submissions_status_received on submissions (status, received_at desc, id desc)`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('submissions').execute()
}
