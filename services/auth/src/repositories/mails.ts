import { MailQueuedV1 } from '@pulse/contracts'
import type { RenderedMail } from '@pulse/mail'
import { enqueueEvent } from '@pulse/service-kit'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../db/database.js'

type Db = Kysely<Database> | Transaction<Database>

export interface NewMail {
  userId: string | null
  /** What the mail is (`verify_email`, `password_reset`…), for operators. */
  kind: string
  to: string
  mail: RenderedMail
}

/**
 * Stores a mail and, in the same transaction, its id in the outbox: the mail sender sends it once
 * the transaction commits. The body stays here, never in the event: it may hold a link's secret.
 */
export async function queueMail (trx: Transaction<Database>, mail: NewMail): Promise<string> {
  const row = await trx.insertInto('mails').values({
    user_id: mail.userId, kind: mail.kind, to_address: mail.to, subject: mail.mail.subject, text_body: mail.mail.text, html_body: mail.mail.html
  }).returning('id').executeTakeFirstOrThrow()
  await enqueueEvent(trx, MailQueuedV1, { mailId: row.id })
  return row.id
}

/**
 * Stores a mail once per `dedupeKey` (a redelivered event stores nothing new); answers its id, sent
 * or not. For mails written by an event consumer, which sends them itself (no outbox needed).
 */
export async function storeMailOnce (db: Db, mail: NewMail & { dedupeKey: string }): Promise<string> {
  await db.insertInto('mails').values({
    user_id: mail.userId, kind: mail.kind, dedupe_key: mail.dedupeKey, to_address: mail.to, subject: mail.mail.subject, text_body: mail.mail.text, html_body: mail.mail.html
  }).onConflict((oc) => oc.column('dedupe_key').doNothing()).execute()
  const row = await db.selectFrom('mails').select('id').where('dedupe_key', '=', mail.dedupeKey).executeTakeFirstOrThrow()
  return row.id
}

export async function findMail (db: Db, id: string) {
  return await db.selectFrom('mails').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function countMailAttempt (db: Db, id: string): Promise<void> {
  await db.updateTable('mails').set({ attempts: sql<number>`attempts + 1` }).where('id', '=', id).execute()
}

/** Sent: recorded, and the body (which may hold a secret) cleared. */
export async function markMailSent (db: Db, id: string): Promise<void> {
  await db.updateTable('mails').set({ sent_at: sql<Date>`now()`, text_body: null, html_body: null }).where('id', '=', id).execute()
}
