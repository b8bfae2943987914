import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  // 'held': a mail kept back to go out in a digest with others of its kind (src/deliveries/worker.ts).
  await sql`alter table deliveries drop constraint deliveries_status_check`.execute(db)
  await sql`alter table deliveries add constraint deliveries_status_check check (status in ('pending', 'sent', 'failed', 'held'))`.execute(db)
  await sql`create index deliveries_held on deliveries (user_id, kind, next_attempt_at) where status = 'held'`.execute(db)
  await sql`create index deliveries_recent_mail on deliveries (user_id, kind, sent_at) where channel = 'email' and status = 'sent'`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`drop index deliveries_recent_mail`.execute(db)
  await sql`drop index deliveries_held`.execute(db)
  await sql`update deliveries set status = 'pending' where status = 'held'`.execute(db)
  await sql`alter table deliveries drop constraint deliveries_status_check`.execute(db)
  await sql`alter table deliveries add constraint deliveries_status_check check (status in ('pending', 'sent', 'failed'))`.execute(db)
}
