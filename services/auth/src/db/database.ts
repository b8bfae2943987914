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

export interface Database extends OutboxTable {
  users: UsersTable
  connections: ConnectionsTable
  job_runs: JobRunsTable
  leases: LeasesTable
}
