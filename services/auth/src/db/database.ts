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
  access_token: string
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
  connections: ConnectionsTable
  job_runs: JobRunsTable
  leases: LeasesTable
  exports: ExportsTable
}
