import type { OutboxTable } from '@pulse/service-kit'
import type { Generated, GeneratedAlways, Kysely, Selectable, Transaction } from 'kysely'

/** The kit's tables (see ./migrations/core.ts), in the schema of the service that uses it. */
export interface TrackedAccountsTable {
  user_id: string
  provider_user_id: string
  provider_login: string
  linked_at: Date
  invalidated_at: Date | null
  invalid_reason: string | null
  last_manual_refresh_at: Date | null
  last_refreshed_at: Date | null
  last_failure_reason: string | null
  last_failure_at: Date | null
  updated_at: Generated<Date>
  /** The account's place within the refresh interval, in millionths of it (from the user id). */
  refresh_slot: GeneratedAlways<number>
}

export interface ProcessedRefreshesTable {
  user_id: string
  requested_at: Date
  reason: string
  outcome: 'refreshed' | 'failed'
  snapshot_id: string | null
  failure_reason: string | null
  processed_at: Generated<Date>
}

/** Users who deleted their account, by the sha256 of their id (repositories.ts, userHash). */
export interface DeletedUsersTable {
  user_hash: string
  deleted_at: Generated<Date>
}

/** How far the scheduler has requested refreshes: one row, `refresh`. */
export interface SchedulerProgressTable {
  id: string
  scheduled_through: Date | null
  updated_at: Generated<Date>
}

export interface UnlinksTable {
  user_id: string
  unlinked_at: Date
}

/**
 * What every service's `snapshots` table has; each adds its own metric columns, which the kit
 * reads by name (`MetricColumns`).
 */
export interface SnapshotBaseTable {
  id: Generated<string>
  user_id: string
  captured_at: Date
}

export interface IngestDatabase extends OutboxTable {
  tracked_accounts: TrackedAccountsTable
  processed_refreshes: ProcessedRefreshesTable
  unlinks: UnlinksTable
  deleted_users: DeletedUsersTable
  scheduler_progress: SchedulerProgressTable
  snapshots: SnapshotBaseTable
}

export type IngestDb = Kysely<IngestDatabase> | Transaction<IngestDatabase>
export type TrackedAccount = Selectable<TrackedAccountsTable>

/** Metric name (as the API names it, e.g. `followers`) → column of the service's `snapshots` table. */
export type MetricColumns<M extends string = string> = Readonly<Record<M, string>>
