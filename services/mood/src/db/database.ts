import type { MoodEntryResponse } from '@pulse/contracts'
import type { ColumnType, Generated } from 'kysely'

/** The Postgres schema this service owns. */
export const MOOD_SCHEMA = 'mood'

export interface EntriesTable {
  id: Generated<string>
  user_id: string
  score: number
  label: string | null
  note: string | null
  logged_at: ColumnType<Date, Date, Date>
  /** The calendar date of logged_at in `timezone`; pg reads dates as Date, so queries select `day::text`. */
  day: ColumnType<Date, string, string>
  /** The zone the day was computed in: the user's zone when they logged (or last moved) the entry. */
  timezone: string
  created_at: Generated<Date>
  updated_at: Generated<Date>
}

export interface IdempotencyKeysTable {
  user_id: string
  key: string
  /** sha256 of the canonical request body. */
  request_hash: string
  /**
   * The answer a replay gives: only a created entry (201) is kept. Filled in the same transaction as
   * the row itself, so never null once committed.
   */
  status_code: 201 | null
  response: ColumnType<MoodEntryResponse, string | null, string>
  created_at: Generated<Date>
}

/**
 * A run of consecutive days with at least one entry each: runs of one user never overlap nor touch.
 * Kept by triggers on `entries` (migration 2026-11-22T02-00_streak_runs), never written by the service.
 */
export interface StreakRunsTable {
  user_id: string
  first_day: ColumnType<Date, string, string>
  last_day: ColumnType<Date, string, string>
}

/** One row per user who ever had an entry: the lock that serialises changes of their runs, and the longest run. */
export interface UserStreaksTable {
  user_id: string
  longest: number
}

export interface Database {
  entries: EntriesTable
  idempotency_keys: IdempotencyKeysTable
  streak_runs: StreakRunsTable
  user_streaks: UserStreaksTable
}
