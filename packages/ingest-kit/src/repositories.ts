import { createHash } from 'node:crypto'
import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { IngestDb, MetricColumns, SnapshotBaseTable, TrackedAccount } from './db.js'
import type { HistorySources } from './retention.js'

// ------------------------------------------------------------------------------------------------
// Tracked accounts

export async function findTrackedAccount (db: IngestDb, userId: string): Promise<TrackedAccount | undefined> {
  return await db.selectFrom('tracked_accounts').selectAll().where('user_id', '=', userId).executeTakeFirst()
}

/** The account row locked until the transaction ends (a refresh storing while an unlink deletes). */
export async function lockTrackedAccount (db: IngestDb, userId: string): Promise<TrackedAccount | undefined> {
  return await db.selectFrom('tracked_accounts').selectAll().where('user_id', '=', userId).forUpdate().executeTakeFirst()
}

export interface LinkedAccount {
  userId: string
  providerUserId: string
  providerLogin: string
  linkedAt: Date
}

/** Tracks an account (again); a previous invalidation ends with the new link. */
export async function upsertTrackedAccount (db: IngestDb, account: LinkedAccount): Promise<void> {
  await db.insertInto('tracked_accounts').values({
    user_id: account.userId,
    provider_user_id: account.providerUserId,
    provider_login: account.providerLogin,
    linked_at: account.linkedAt
  }).onConflict((oc) => oc.column('user_id').doUpdateSet({
    provider_user_id: account.providerUserId,
    provider_login: account.providerLogin,
    linked_at: account.linkedAt,
    invalidated_at: null,
    invalid_reason: null,
    updated_at: sql<Date>`now()`
  })).execute()
}

/** Marks the account unusable until it is linked again; an invalidation older than the link is ignored. */
export async function markInvalidated (db: IngestDb, userId: string, reason: string, at: Date): Promise<void> {
  await db.updateTable('tracked_accounts')
    .set({ invalidated_at: at, invalid_reason: reason, updated_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('linked_at', '<=', at)
    .execute()
}

export async function recordRefreshSuccess (db: IngestDb, userId: string, at: Date): Promise<void> {
  await db.updateTable('tracked_accounts')
    .set({ last_refreshed_at: at, invalidated_at: null, invalid_reason: null, last_failure_reason: null, last_failure_at: null, updated_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .execute()
}

export async function recordRefreshFailure (db: IngestDb, userId: string, reason: string, at: Date, invalidate: boolean): Promise<void> {
  await db.updateTable('tracked_accounts')
    .set({
      last_failure_reason: reason,
      last_failure_at: at,
      ...(invalidate ? { invalidated_at: at, invalid_reason: reason } : {}),
      updated_at: sql<Date>`now()`
    })
    .where('user_id', '=', userId)
    .execute()
}

/** Millionths of the refresh interval: the resolution of an account's slot (`refresh_slot`). */
export const REFRESH_SLOTS = 1_000_000

export interface DueAccount { userId: string, slot: number }

/**
 * A page of the accounts the scheduler refreshes (not invalidated) whose slot is in [from, to), in
 * (slot, user id) order after `after`: an index range scan of `tracked_accounts_refresh_slot`.
 */
export async function listDueAccounts (db: IngestDb, slots: { from: number, to: number }, after: DueAccount | undefined, limit: number): Promise<DueAccount[]> {
  let query = db.selectFrom('tracked_accounts').select(['user_id', 'refresh_slot'])
    .where('invalidated_at', 'is', null)
    .where('refresh_slot', '>=', slots.from).where('refresh_slot', '<', slots.to)
    .orderBy('refresh_slot').orderBy('user_id').limit(limit)
  if (after !== undefined) query = query.where((eb) => eb(eb.refTuple('refresh_slot', 'user_id'), '>', eb.tuple(after.slot, after.userId)))
  return (await query.execute()).map((r) => ({ userId: r.user_id, slot: r.refresh_slot }))
}

/**
 * Locks the scheduler's progress row for the transaction, or answers `locked` when another replica
 * holds it (that replica is doing this tick's work).
 */
export async function claimSchedulerProgress (db: IngestDb): Promise<{ scheduledThrough: Date | null } | 'locked'> {
  const row = await db.selectFrom('scheduler_progress').select('scheduled_through').where('id', '=', 'refresh').forUpdate().skipLocked().executeTakeFirst()
  return row === undefined ? 'locked' : { scheduledThrough: row.scheduled_through }
}

export async function recordSchedulerProgress (db: IngestDb, scheduledThrough: Date): Promise<void> {
  await db.updateTable('scheduler_progress').set({ scheduled_through: scheduledThrough, updated_at: sql<Date>`now()` }).where('id', '=', 'refresh').execute()
}

export type ManualRefreshClaim = { outcome: 'claimed' } | { outcome: 'too_soon', retryAfterMs: number } | { outcome: 'not_connected' }

/**
 * Takes the user's manual-refresh slot if the last one is at least `minIntervalMs` old: one
 * conditional update, so two replicas (or two clicks) cannot both take it.
 */
export async function claimManualRefresh (db: IngestDb, userId: string, now: Date, minIntervalMs: number): Promise<ManualRefreshClaim> {
  const threshold = new Date(now.getTime() - minIntervalMs)
  const claimed = await db.updateTable('tracked_accounts')
    .set({ last_manual_refresh_at: now, updated_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('last_manual_refresh_at', 'is', null), eb('last_manual_refresh_at', '<=', threshold)]))
    .returning('user_id')
    .executeTakeFirst()
  if (claimed !== undefined) return { outcome: 'claimed' }
  const account = await findTrackedAccount(db, userId)
  if (account === undefined) return { outcome: 'not_connected' }
  const last = account.last_manual_refresh_at?.getTime() ?? now.getTime()
  return { outcome: 'too_soon', retryAfterMs: Math.max(1000, last + minIntervalMs - now.getTime()) }
}

// ------------------------------------------------------------------------------------------------
// Unlinking

export async function recordUnlink (db: IngestDb, userId: string, at: Date): Promise<void> {
  await db.insertInto('unlinks').values({ user_id: userId, unlinked_at: at })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ unlinked_at: sql<Date>`greatest(unlinks.unlinked_at, excluded.unlinked_at)` }))
    .execute()
}

/** True when the user unlinked at or after `linkedAt`: that link event arrived late and is stale. */
export async function unlinkedSince (db: IngestDb, userId: string, linkedAt: Date): Promise<boolean> {
  const row = await db.selectFrom('unlinks').select('unlinked_at').where('user_id', '=', userId).executeTakeFirst()
  return row !== undefined && row.unlinked_at.getTime() >= linkedAt.getTime()
}

/** Deletes the kit's rows of one user: the account, its snapshots and their roll-ups, its request bookkeeping. */
export async function deleteIngestRows (db: IngestDb, userId: string): Promise<void> {
  await db.deleteFrom('snapshots').where('user_id', '=', userId).execute()
  await sql`delete from snapshots_hourly where user_id = ${userId}`.execute(db)
  await sql`delete from snapshots_daily where user_id = ${userId}`.execute(db)
  await db.deleteFrom('processed_refreshes').where('user_id', '=', userId).execute()
  await db.deleteFrom('tracked_accounts').where('user_id', '=', userId).execute()
}

// ------------------------------------------------------------------------------------------------
// Refresh requests handled

export async function isRefreshProcessed (db: IngestDb, userId: string, requestedAt: Date): Promise<boolean> {
  const row = await db.selectFrom('processed_refreshes').select('user_id')
    .where('user_id', '=', userId).where('requested_at', '=', requestedAt).executeTakeFirst()
  return row !== undefined
}

export interface ProcessedRefresh {
  userId: string
  requestedAt: Date
  reason: string
  outcome: 'refreshed' | 'failed'
  snapshotId?: string
  failureReason?: string
}

/** Records a handled request; false when it was already recorded (a duplicate delivery). */
export async function recordProcessedRefresh (db: IngestDb, processed: ProcessedRefresh): Promise<boolean> {
  const inserted = await db.insertInto('processed_refreshes').values({
    user_id: processed.userId,
    requested_at: processed.requestedAt,
    reason: processed.reason,
    outcome: processed.outcome,
    snapshot_id: processed.snapshotId ?? null,
    failure_reason: processed.failureReason ?? null
  }).onConflict((oc) => oc.columns(['user_id', 'requested_at']).doNothing()).returning('user_id').executeTakeFirst()
  return inserted !== undefined
}

/** Bookkeeping older than the stream keeps messages cannot be needed for de-duplication any more. */
export async function deleteOldBookkeeping (db: IngestDb, before: Date): Promise<void> {
  await db.deleteFrom('processed_refreshes').where('processed_at', '<', before).execute()
  await db.deleteFrom('unlinks').where('unlinked_at', '<', before).execute()
  await db.deleteFrom('deleted_users').where('deleted_at', '<', before).execute()
}

// ------------------------------------------------------------------------------------------------
// Deleted accounts

/** How a deleted user is remembered: the sha256 of the id, never the id. */
export const userHash = (userId: string): string => createHash('sha256').update(userId).digest('hex')

export async function recordUserDeleted (db: IngestDb, userId: string): Promise<void> {
  await db.insertInto('deleted_users').values({ user_hash: userHash(userId) }).onConflict((oc) => oc.column('user_hash').doNothing()).execute()
}

export async function isUserDeleted (db: IngestDb, userId: string): Promise<boolean> {
  return await db.selectFrom('deleted_users').select('user_hash').where('user_hash', '=', userHash(userId)).executeTakeFirst() !== undefined
}

/**
 * Deletes the outbox rows whose event names the user (refresh requests, results, failures), sent or
 * not: the user is gone, so nothing of theirs still has to go out.
 */
export async function purgeOutboxOfUser (db: IngestDb, userId: string): Promise<void> {
  await db.deleteFrom('outbox').where(sql<string>`payload->>'userId'`, '=', userId).execute()
}

// ------------------------------------------------------------------------------------------------
// Snapshots

export interface SnapshotValues<M extends string = string> {
  id: string
  capturedAt: Date
  values: Record<M, number | null>
}

function toValues<M extends string> (row: Record<string, unknown>, columns: MetricColumns<M>): SnapshotValues<M> {
  const values = {} as Record<M, number | null>
  for (const metric of Object.keys(columns) as M[]) {
    const value = row[`m_${metric}`]
    values[metric] = value === null || value === undefined ? null : Number(value)
  }
  return { id: row.id as string, capturedAt: row.captured_at as Date, values }
}

/** When the user's newest snapshot was taken: the time of the lists kept from that refresh. */
export async function latestCaptureTime (db: IngestDb, userId: string): Promise<Date | undefined> {
  const row = await db.selectFrom('snapshots').select('captured_at').where('user_id', '=', userId)
    .orderBy('captured_at', 'desc').limit(1).executeTakeFirst()
  return row?.captured_at
}

/**
 * The newest snapshot of a user at or before `at` (the newest of all without it: a roll-up's, for an
 * account whose refreshes stopped longer ago than the raw window). Older than the
 * raw window, the answer is the newest roll-up at or before `at`: the last snapshot of its hour (or
 * day), so `capturedAt` says which snapshot it really is. While a raw row at or before `at` is
 * kept, it is the exact answer (raw weeks go oldest first, and roll-ups only hold raw snapshots).
 */
export async function snapshotAtOrBefore<M extends string> (db: IngestDb, userId: string, columns: MetricColumns<M>, at?: Date): Promise<SnapshotValues<M> | undefined> {
  return (await snapshotsAtOrBefore(db, userId, columns, [at]))[0]
}

/**
 * `snapshotAtOrBefore` for several times at once (undefined: the newest), in one statement (two when
 * one is older than the raw window): the overview asks four, and one round trip instead of four keeps
 * it fast under load.
 */
export async function snapshotsAtOrBefore<M extends string> (db: IngestDb, userId: string, columns: MetricColumns<M>, ats: Array<Date | undefined>): Promise<Array<SnapshotValues<M> | undefined>> {
  const metrics = sql.join(Object.entries<string>(columns).map(([metric, column]) => sql`${sql.ref(column)} as ${sql.id(`m_${metric}`)}`))
  const times = (ks: number[]) => sql.join(ks.map((k) => sql`(${k}::int, ${ats[k] ?? null}::timestamptz)`))
  const out: Array<SnapshotValues<M> | undefined> = ats.map(() => undefined)
  // First the raw snapshots of the week before each time (one or two weekly partitions, not all of
  // them): a raw row found there is the answer. Older raw rows are all rolled up (the job's hourly
  // mark is past them), so when none is found the roll-ups have the answer. Before the job's first
  // run (no mark) the raw search has no lower bound.
  const raw = await sql<Record<string, unknown> & { k: number }>`
    with w as (select coalesce((select rolled_until from snapshot_rollup_state where resolution = 'hourly'), '-infinity') as hw)
    select a.k, s.* from (values ${times(ats.map((_, k) => k))}) a(k, at) cross join w cross join lateral (
      select id, captured_at, ${metrics} from snapshots
      where user_id = ${userId} and captured_at <= coalesce(a.at, 'infinity')
        and captured_at > least(coalesce(a.at, w.hw) - interval '7 days', w.hw)
      order by captured_at desc limit 1
    ) s`.execute(db)
  for (const row of raw.rows) out[row.k] = toValues(row, columns)
  const missing = out.flatMap((found, k) => found === undefined ? [k] : [])
  if (missing.length === 0) return out

  const rollup = (table: string) => sql`(select id, captured_at, ${metrics} from ${sql.id(table)}
    where user_id = ${userId} and bucket <= coalesce(a.at, 'infinity') and captured_at <= coalesce(a.at, 'infinity') order by bucket desc limit 1)`
  const rows = await sql<Record<string, unknown> & { k: number }>`
    select a.k, s.* from (values ${times(missing)}) a(k, at) cross join lateral (
      (select id, captured_at, ${metrics} from snapshots where user_id = ${userId} and captured_at <= coalesce(a.at, 'infinity') order by captured_at desc limit 1)
      union all ${rollup('snapshots_hourly')}
      union all ${rollup('snapshots_daily')}
      order by captured_at desc limit 1
    ) s`.execute(db)
  for (const row of rows.rows) out[row.k] = toValues(row, columns)
  return out
}

export interface HistoryPoint {
  t: Date
  value: number
}

const HOUR_MS = 3600_000

/**
 * One metric of a user's snapshots in [from, to], oldest first, at most about `maxPoints` of them:
 * when there are more, the range is cut into equal buckets and the last snapshot of each is kept.
 *
 * With `sources` (where the raw window and the hourly window begin now), the rows read stay about
 * as few as the points answered, whatever the range: buckets of half an hour or more read the hourly
 * roll-ups (at most two rows per bucket), buckets of 4 hours or more the daily ones (at most four
 * per bucket before; one point a day, for ranges of about 12 weeks or more at 500 points). Raw
 * snapshots are read within the raw window for shorter buckets, hourly roll-ups within the hourly
 * window, daily ones before; what the roll-up job has not reached yet (the last hour) is read raw.
 * Without `sources`: raw snapshots only.
 */
export async function readHistory (db: IngestDb, userId: string, column: string, from: Date, to: Date, maxPoints: number, sources?: HistorySources): Promise<HistoryPoint[]> {
  const widthMs = Math.max(1, Math.ceil((to.getTime() - from.getTime() + 1) / maxPoints))
  const value = sql.ref(column)
  const range = sql`user_id = ${userId} and captured_at >= ${from}::timestamptz and captured_at <= ${to}::timestamptz and ${value} is not null`
  let points
  if (sources === undefined) {
    points = sql`select captured_at, ${value} as value from snapshots where ${range}`
  } else {
    // The roll-ups are complete up to their rolled_until; before the job's first run they are empty
    // and everything is read raw (-infinity cuts).
    const hourlyCut = widthMs >= HOUR_MS / 2 ? sql`hw` : sql`least(${sources.rawFrom}::timestamptz, hw)`
    const dailyCut = widthMs >= 4 * HOUR_MS ? sql`dw` : sql`least(${sources.hourlyFrom}::timestamptz, dw)`
    const bucketRange = (unit: string) => sql`bucket >= ${from}::timestamptz - ${sql.lit(`1 ${unit}`)}::interval and bucket <= ${to}::timestamptz`
    points = sql`
      with w as (
        select coalesce((select rolled_until from snapshot_rollup_state where resolution = 'hourly'), '-infinity') as hw,
          coalesce((select rolled_until from snapshot_rollup_state where resolution = 'daily'), '-infinity') as dw
      ), c as (select ${hourlyCut} as h_cut, least(${dailyCut}, ${hourlyCut}) as d_cut from w)
      select captured_at, ${value} as value from snapshots_daily, c where ${range} and ${bucketRange('day')} and captured_at < c.d_cut
      union all
      select captured_at, ${value} as value from snapshots_hourly, c where ${range} and ${bucketRange('hour')} and captured_at >= c.d_cut and captured_at < c.h_cut
      union all
      select captured_at, ${value} as value from snapshots, c where ${range} and captured_at >= c.h_cut`
  }
  const rows = await sql<{ t: Date, value: string | number }>`
    with points as (${points})
    select t, value from (
      select distinct on (bucket) captured_at as t, value,
        floor(extract(epoch from (captured_at - ${from}::timestamptz)) * 1000 / ${widthMs}) as bucket
      from points
      order by bucket, captured_at desc
    ) s
    order by t`.execute(db)
  return rows.rows.map((r) => ({ t: r.t, value: Number(r.value) }))
}

/**
 * One page of a user's snapshots (every metric column) for their data export, by id: raw snapshots
 * and the hourly and daily roll-ups (marked `rollup`, with their `bucket`), whose ids are their own.
 */
export async function pageUserSnapshots (db: IngestDb, userId: string, cursor: string | undefined, limit: number): Promise<{ records: Array<Record<string, unknown>>, nextCursor: string | null }> {
  const after = cursor === undefined ? sql`` : sql`and id > ${cursor}::uuid`
  const page = async (table: string, rollup?: string) => {
    const rows = await sql<Record<string, unknown> & { id: string }>`
      select * from ${sql.id(table)} where user_id = ${userId} ${after} order by id limit ${limit + 1}`.execute(db)
    return rows.rows.map((row) => rollup === undefined ? row : { ...row, rollup })
  }
  // Each table's page is in id order; merged, the first `limit` + 1 of all three are the page.
  // Postgres orders uuids as their lower-case hex text.
  const all = [...await page('snapshots'), ...await page('snapshots_hourly', 'hourly'), ...await page('snapshots_daily', 'daily')]
    .sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
    .slice(0, limit + 1)
  const records = all.slice(0, limit).map(({ user_id: _userId, ...record }) => record)
  return { records, nextCursor: all.length > limit ? String(records.at(-1)!.id) : null }
}

// ------------------------------------------------------------------------------------------------
// The services' own rows

/** The user's newest snapshot with all the columns of the service's snapshots table `S`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service types its own tables
export async function latestServiceSnapshot<S extends SnapshotBaseTable> (db: Kysely<any> | Transaction<any>, userId: string): Promise<Selectable<S> | undefined> {
  const row = await (db as IngestDb).selectFrom('snapshots').selectAll().where('user_id', '=', userId).orderBy('captured_at', 'desc').limit(1).executeTakeFirst()
  return row as Selectable<S> | undefined
}

/** The snapshot the pipeline hands a service's `store`, as the columns every snapshots table has. */
export function snapshotBaseRow (snapshot: { id: string, userId: string, capturedAt: Date }): Insertable<SnapshotBaseTable> & { id: string } {
  return { id: snapshot.id, user_id: snapshot.userId, captured_at: snapshot.capturedAt }
}

/** Inserts rows a few hundred at a time: one statement per chunk keeps under Postgres' limit of 65,535 parameters. */
export async function insertInChunks<DB, T extends keyof DB & string> (db: Kysely<DB> | Transaction<DB>, table: T, rows: Array<Insertable<DB[T]>>, chunkSize = 500): Promise<void> {
  for (let i = 0; i < rows.length; i += chunkSize) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely cannot relate a generic table's Insertable to its insert
    await (db as Kysely<any>).insertInto(table).values(rows.slice(i, i + chunkSize)).execute()
  }
}

// ------------------------------------------------------------------------------------------------
// A user's one-row tables (the provider profile)

/** A table with one row per user, keyed by `user_id`. */
interface UserRowTable { user_id: string }

/** The user's row of `table`: inserted, or replaced by `row` when there is one. */
export async function upsertUserRow<R extends object> (db: Kysely<any>, table: string, userId: string, row: R): Promise<void> { // eslint-disable-line @typescript-eslint/no-explicit-any -- each service's own table
  await (db as Kysely<Record<string, UserRowTable>>).insertInto(table).values({ user_id: userId, ...row })
    .onConflict((c) => c.column('user_id').doUpdateSet(row as never)).execute()
}

/** The user's row of `table`, if there is one. */
export async function readUserRow<R> (db: Kysely<any>, table: string, userId: string): Promise<R | undefined> { // eslint-disable-line @typescript-eslint/no-explicit-any -- each service's own table
  return await (db as Kysely<Record<string, UserRowTable>>).selectFrom(table).selectAll().where('user_id', '=', userId).executeTakeFirst() as R | undefined
}
