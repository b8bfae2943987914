import type { ContactStatus } from '@pulse/contracts'
import type { OutboxTable } from '@pulse/service-kit'
import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction } from 'kysely'

export interface SubmissionsTable {
  id: Generated<string>
  name: string
  email: string
  subject: string | null
  message: string
  status: ColumnType<ContactStatus, ContactStatus | undefined, ContactStatus>
  honeypot_filled: ColumnType<boolean, boolean | undefined, never>
  client_ip: string
  user_id: string | null
  idempotency_key: string | null
  /** A hash of the body first sent with the idempotency key: a different body with it is refused. */
  request_fingerprint: string | null
  received_at: ColumnType<Date, never, never>
  updated_at: ColumnType<Date, never, Date>
}

export interface Database extends OutboxTable {
  submissions: SubmissionsTable
}

export type Db = Kysely<Database> | Transaction<Database>
export type SubmissionRow = Selectable<SubmissionsTable>
export type NewSubmission = Insertable<SubmissionsTable>

/** The Postgres schema this service owns. */
export const CONTACT_SCHEMA = 'contact'
