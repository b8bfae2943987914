import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.createTable('mood_reminders')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    // HH:MM in the user's time zone.
    .addColumn('local_time', 'text', (c) => c.notNull().check(sql`local_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'`))
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  // One row per user and local day: inserting it is how one replica, once, takes the day's reminder.
  await db.schema.createTable('reminders_sent')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('local_date', 'date', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('sent', 'already_logged', 'no_channel')`))
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('reminders_sent_pkey', ['user_id', 'local_date'])
    .execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('reminders_sent').execute()
  await db.schema.dropTable('mood_reminders').execute()
}
