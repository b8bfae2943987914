import { decodeCursorValue, encodeCursor } from '@pulse/service-kit'
import type { IngestDb, MetricColumns, TrackedAccount } from './db.js'
import { snapshotsAtOrBefore, type SnapshotValues } from './repositories.js'

const DAY_MS = 24 * 3600 * 1000

/** The periods an overview compares the latest snapshot with (docs/api.md: "the change over 1, 7 and 30 days"). */
export const CHANGE_PERIODS = { '1d': DAY_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS } as const
export type ChangePeriod = keyof typeof CHANGE_PERIODS

export interface MetricsChange<M extends string> {
  /** When the snapshot compared with was captured. */
  since: Date
  /** latest − then, per metric; null where either value is unknown. */
  delta: Record<M, number | null>
}

export interface Overview<M extends string> {
  latest: SnapshotValues<M> | undefined
  change: Record<ChangePeriod, MetricsChange<M> | null>
}

/** latest − baseline per metric (null where either is unknown); rounding keeps float noise out of ratios. */
export function metricsDelta<M extends string> (latest: Record<M, number | null>, baseline: Record<M, number | null>): Record<M, number | null> {
  const delta = {} as Record<M, number | null>
  for (const metric of Object.keys(latest) as M[]) {
    const a = latest[metric]
    const b = baseline[metric]
    delta[metric] = a === null || b === null || b === undefined ? null : Math.round((a - b) * 1e9) / 1e9
  }
  return delta
}

/**
 * The latest snapshot and, for each period, its difference from the newest snapshot captured at or
 * before now − period (null when there is none that old).
 */
export async function readOverview<M extends string> (db: IngestDb, userId: string, columns: MetricColumns<M>, now: number): Promise<Overview<M>> {
  const periods = Object.entries(CHANGE_PERIODS) as Array<[ChangePeriod, number]>
  const [latest, ...baselines] = await snapshotsAtOrBefore(db, userId, columns, [undefined, ...periods.map(([, ms]) => new Date(now - ms))])
  const change = { '1d': null, '7d': null, '30d': null } as Record<ChangePeriod, MetricsChange<M> | null>
  if (latest === undefined) return { latest, change }
  for (const [i, [period]] of periods.entries()) {
    const baseline = baselines[i]
    if (baseline !== undefined) change[period] = { since: baseline.capturedAt, delta: metricsDelta(latest.values, baseline.values) }
  }
  return { latest, change }
}

// ------------------------------------------------------------------------------------------------
// Pages of the lists kept from the latest refresh

/**
 * An opaque cursor over a list that is replaced whole by each refresh: the position where the next
 * page starts. Lists are bounded (settings cap what is stored), so a position is enough.
 */
export function encodeOffsetCursor (offset: number): string {
  return encodeCursor({ o: offset })
}

export function decodeOffsetCursor (cursor: string): number | undefined {
  const decoded = decodeCursorValue(cursor) as { o?: unknown } | null | undefined
  if (typeof decoded === 'object' && decoded !== null && Number.isSafeInteger(decoded.o) && (decoded.o as number) >= 0) return decoded.o as number
  return undefined
}

export interface PageRequest {
  offset: number
  limit: number
}

/**
 * `?cursor&limit` checked against the service's page sizes; `invalid` builds the 400 naming the
 * field (the service's own error class, with its prefix).
 */
export function pageRequest (query: { cursor?: string, limit?: number }, sizes: { defaultLimit: number, maxLimit: number }, invalid: (message: string) => Error): PageRequest {
  const limit = query.limit ?? sizes.defaultLimit
  if (limit > sizes.maxLimit) throw invalid(`querystring/limit must be <= ${sizes.maxLimit}`)
  if (query.cursor === undefined) return { offset: 0, limit }
  const offset = decodeOffsetCursor(query.cursor)
  if (offset === undefined) throw invalid('querystring/cursor is not a cursor this list returned')
  return { offset, limit }
}

/** `rows` fetched with limit + 1: the page and the cursor of the next one (null at the end). */
export function pageOf<T> (rows: T[], { offset, limit }: PageRequest): { items: T[], nextCursor: string | null } {
  return { items: rows.slice(0, limit), nextCursor: rows.length > limit ? encodeOffsetCursor(offset + limit) : null }
}

/** A history range: defaults to the last `defaultDays`, refuses reversed or too long ranges. */
export function historyRange (query: { from?: string, to?: string }, now: number, limits: { defaultDays: number, maxDays: number }, invalid: (message: string) => Error): { from: Date, to: Date } {
  const to = query.to === undefined ? new Date(now) : new Date(query.to)
  const from = query.from === undefined ? new Date(to.getTime() - limits.defaultDays * DAY_MS) : new Date(query.from)
  if (Number.isNaN(to.getTime())) throw invalid('querystring/to must be a date-time')
  if (Number.isNaN(from.getTime())) throw invalid('querystring/from must be a date-time')
  if (from.getTime() > to.getTime()) throw invalid('querystring/from must not be after querystring/to')
  if (to.getTime() - from.getTime() > limits.maxDays * DAY_MS) throw invalid(`querystring/from and querystring/to must be at most ${limits.maxDays} days apart`)
  return { from, to }
}

// ------------------------------------------------------------------------------------------------
// Shapes of the answers (MetricsConnectionSchema, MetricsChangesSchema in @pulse/contracts)

/** The tracked account as the overview shows it. */
export function connectionOf (account: TrackedAccount) {
  return {
    providerUserId: account.provider_user_id,
    login: account.provider_login,
    status: account.invalidated_at === null ? 'active' as const : 'invalidated' as const,
    lastRefreshedAt: account.last_refreshed_at?.toISOString() ?? null,
    lastFailure: account.last_failure_reason !== null && account.last_failure_at !== null
      ? { reason: account.last_failure_reason, at: account.last_failure_at.toISOString() }
      : null
  }
}

/** `{ '1d': { since, …deltas } | null, '7d': …, '30d': … }` */
export function changesOf<M extends string> (change: Overview<M>['change']): Record<ChangePeriod, ({ since: string } & Record<M, number | null>) | null> {
  const out = {} as Record<ChangePeriod, ({ since: string } & Record<M, number | null>) | null>
  for (const period of Object.keys(CHANGE_PERIODS) as ChangePeriod[]) {
    const c = change[period]
    out[period] = c === null ? null : { since: c.since.toISOString(), ...c.delta }
  }
  return out
}
