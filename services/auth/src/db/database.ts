import type { ProviderName } from '@pulse/contracts'
import type { OutboxTable } from '@pulse/service-kit'
import type { ColumnType, Generated } from 'kysely'

/** The Postgres schema this service owns. */
export const AUTH_SCHEMA = 'auth'

export interface UsersTable {
  id: Generated<string>
  username: string
  display_name: string
  password_hash: string | null
  role: ColumnType<'user' | 'admin', 'user' | 'admin' | undefined, 'user' | 'admin'>
  timezone: string
  email: ColumnType<string | null, string | null | undefined, string | null>
  email_verified_at: ColumnType<Date | null, Date | null | undefined, Date | null>
  created_at: ColumnType<Date, never, never>
  updated_at: ColumnType<Date, never, Date>
}

export type { ProviderName }
export type ConnectionStatus = 'active' | 'invalid'

/** A connected provider account; the token columns are ciphertexts (tokens/token-store.ts). */
export interface ConnectionsTable {
  id: Generated<string>
  user_id: string
  provider: ProviderName
  provider_user_id: string
  provider_login: string
  status: ColumnType<ConnectionStatus, ConnectionStatus | undefined, ConnectionStatus>
  scopes: string[]
  /** Null once deleted: the user revoked the grant at the provider (the status is then invalid). */
  access_token: string | null
  refresh_token: string | null
  token_secret: string | null
  key_id: string
  expires_at: Date | null
  connected_at: ColumnType<Date, Date | undefined, Date>
  updated_at: ColumnType<Date, Date | undefined, Date>
}

export interface JobRunsTable {
  name: string
  last_started_at: Date
}

export interface LeasesTable {
  name: string
  holder: string
  expires_at: Date
}

/** The hashed secret of a mailed link (an address check, a password reset). */
export interface AccountTokensTable {
  id: Generated<string>
  user_id: string
  purpose: 'verify_email' | 'reset_password'
  token_hash: string
  email: string | null
  expires_at: Date
  used_at: ColumnType<Date | null, never, Date>
  created_at: ColumnType<Date, never, never>
}

/** A mail to send; its bodies are cleared once it is sent. */
export interface MailsTable {
  id: Generated<string>
  user_id: string | null
  kind: string
  dedupe_key: string | null
  to_address: string
  subject: string
  text_body: string | null
  html_body: string | null
  attempts: ColumnType<number, never, number>
  created_at: ColumnType<Date, never, never>
  sent_at: ColumnType<Date | null, never, Date>
}

/** A TOTP seed (ciphertext, tokens/token-cipher.ts); `enabled_at` null while enrolment awaits its first code. */
export interface TwoFactorTable {
  user_id: string
  secret: string
  key_id: string
  enabled_at: Date | null
  /** The last time step a code was accepted for: a code of that step or before is refused. */
  last_time_step: ColumnType<string | null, number | null | undefined, number | null>
  created_at: ColumnType<Date, never, never>
}

export interface RecoveryCodesTable {
  id: Generated<string>
  user_id: string
  code_hash: string
  used_at: ColumnType<Date | null, never, Date>
}

/** A data export (routes/account-data.ts): the archive is a zip, kept until expires_at. */
export interface ExportsTable {
  id: Generated<string>
  user_id: string
  status: ColumnType<'pending' | 'ready', 'pending' | undefined, 'ready'>
  archive: Buffer | null
  requested_at: ColumnType<Date, Date | undefined, never>
  ready_at: Date | null
  expires_at: Date | null
}

export interface Database extends OutboxTable {
  users: UsersTable
  account_tokens: AccountTokensTable
  mails: MailsTable
  two_factor: TwoFactorTable
  recovery_codes: RecoveryCodesTable
  connections: ConnectionsTable
  job_runs: JobRunsTable
  leases: LeasesTable
  exports: ExportsTable
}
