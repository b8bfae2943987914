import { AUDIENCE_LIVE_FOLLOWS_MAX, TwitchAudienceV1 } from '@pulse/contracts'
import { enqueueEvent } from '@pulse/service-kit'
import { insertInChunks, latestServiceSnapshot, snapshotBaseRow } from '@pulse/ingest-kit'
import type { Insertable, Selectable } from 'kysely'
import type { TwitchRefreshResult } from '../helix/fetch-metrics.js'
import type {
  BitsLeaderboardTable, Database, Db, LiveFollowsTable, SnapshotRow, SnapshotsTable, SubscribersTable, VideosTable
} from '../db/database.js'

const LIST_TABLES = ['videos', 'subscribers', 'bits_leaderboard', 'live_follows'] as const
type ListTable = typeof LIST_TABLES[number]

export async function deleteTwitchLists (db: Db, userId: string): Promise<void> {
  for (const table of LIST_TABLES) await db.deleteFrom(table).where('user_id', '=', userId).execute()
}

/**
 * The snapshot row, and the lists of this refresh in place of the previous ones (at most `maxItems`
 * each), and what it saw of the audience (metrics.audience.v1.twitch) in the same transaction's outbox.
 */
export async function storeTwitchRefresh (db: Db, snapshot: { id: string, userId: string, capturedAt: Date }, result: TwitchRefreshResult, maxItems: number): Promise<void> {
  const { userId } = snapshot
  await db.insertInto('snapshots').values({
    ...snapshotBaseRow(snapshot),
    followers: result.followers,
    subscribers_total: result.subscriptions?.total ?? null,
    subscriber_points: result.subscriptions?.points ?? null,
    subscribers_tier1: result.subscriptions?.tiers[1000] ?? null,
    subscribers_tier2: result.subscriptions?.tiers[2000] ?? null,
    subscribers_tier3: result.subscriptions?.tiers[3000] ?? null,
    followed_channels: result.followedChannels,
    video_count: result.videos.count,
    video_views: result.videos.views
  }).execute()

  await deleteTwitchLists(db, userId)
  await insertInChunks(db, 'videos', result.videos.list.slice(0, maxItems).map((v, position): Insertable<VideosTable> => ({
    user_id: userId,
    position,
    video_id: v.id,
    title: v.title,
    type: v.type,
    url: v.url,
    thumbnail_url: v.thumbnail_url,
    created_at: new Date(v.created_at),
    published_at: new Date(v.published_at),
    view_count: v.view_count,
    duration: v.duration
  })))
  await insertInChunks(db, 'subscribers', (result.subscriptions?.list ?? []).slice(0, maxItems).map((s, position): Insertable<SubscribersTable> => ({
    user_id: userId,
    position,
    subscriber_id: s.user_id,
    login: s.user_login,
    display_name: s.user_name,
    tier: s.tier,
    is_gift: s.is_gift,
    gifter_login: s.is_gift && s.gifter_login !== undefined && s.gifter_login !== '' ? s.gifter_login : null
  })))
  await insertInChunks(db, 'bits_leaderboard', (result.bits ?? []).slice(0, maxItems).map((b, position): Insertable<BitsLeaderboardTable> => ({
    user_id: userId,
    position,
    rank: b.rank,
    viewer_id: b.user_id,
    login: b.user_login,
    display_name: b.user_name,
    score: b.score
  })))
  await insertInChunks(db, 'live_follows', (result.liveFollows ?? []).slice(0, maxItems).map((s, position): Insertable<LiveFollowsTable> => ({
    user_id: userId,
    position,
    stream_id: s.id,
    broadcaster_id: s.user_id,
    login: s.user_login,
    display_name: s.user_name,
    game_id: s.game_id,
    game_name: s.game_name,
    title: s.title,
    viewer_count: s.viewer_count,
    started_at: new Date(s.started_at),
    language: s.language,
    thumbnail_url: s.thumbnail_url
  })))
  await enqueueEvent(db, TwitchAudienceV1, {
    userId,
    snapshotId: snapshot.id,
    capturedAt: snapshot.capturedAt.toISOString(),
    followers: result.followers,
    subscribers: result.subscriptions?.total ?? null,
    liveFollows: (result.liveFollows ?? []).slice(0, AUDIENCE_LIVE_FOLLOWS_MAX).map((s) => ({
      streamId: s.id, broadcasterId: s.user_id, login: s.user_login, displayName: s.user_name, title: s.title, gameName: s.game_name, startedAt: new Date(s.started_at).toISOString()
    }))
  })
}

export async function latestSnapshot (db: Db, userId: string): Promise<SnapshotRow | undefined> {
  return await latestServiceSnapshot<SnapshotsTable>(db, userId)
}

/** A page of one of the lists, in the order Twitch gave (one row more than asked: is there a next page?). */
export async function listPage<T extends ListTable> (db: Db, table: T, userId: string, offset: number, limit: number): Promise<Selectable<Database[T]>[]> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the four list tables share user_id and position
  const rows = await (db as any).selectFrom(table).selectAll().where('user_id', '=', userId).orderBy('position').offset(offset).limit(limit + 1).execute()
  return rows as Selectable<Database[T]>[]
}

export interface LiveChange {
  followers?: number
  /** A new subscription of this tier. */
  subscription?: '1000' | '2000' | '3000'
}

const TIER_POINTS = { 1000: 1, 2000: 2, 3000: 6 } as const
const TIER_COLUMN = { 1000: 'subscribers_tier1', 2000: 'subscribers_tier2', 3000: 'subscribers_tier3' } as const

/**
 * A new snapshot: the latest one with an EventSub change applied (a follower, a subscription), so
 * the numbers move at once; the next refresh stores Twitch's own count again. Undefined before the
 * first refresh (nothing to change yet). Subscription counts stay null without the scope.
 */
export async function storeLiveSnapshot (db: Db, userId: string, id: string, capturedAt: Date, change: LiveChange): Promise<string | undefined> {
  const latest = await latestSnapshot(db, userId)
  if (latest === undefined) return undefined
  const tier = change.subscription
  const subs = latest.subscribers_total === null || tier === undefined
    ? {}
    : {
        subscribers_total: latest.subscribers_total + 1,
        subscriber_points: (latest.subscriber_points ?? 0) + TIER_POINTS[tier],
        [TIER_COLUMN[tier]]: (latest[TIER_COLUMN[tier]] ?? 0) + 1
      }
  await db.insertInto('snapshots').values({
    id,
    user_id: userId,
    // After the latest, even on a clock a little behind: this is the newest snapshot.
    captured_at: new Date(Math.max(capturedAt.getTime(), latest.captured_at.getTime() + 1)),
    followers: latest.followers + (change.followers ?? 0),
    subscribers_total: latest.subscribers_total,
    subscriber_points: latest.subscriber_points,
    subscribers_tier1: latest.subscribers_tier1,
    subscribers_tier2: latest.subscribers_tier2,
    subscribers_tier3: latest.subscribers_tier3,
    followed_channels: latest.followed_channels,
    video_count: latest.video_count,
    video_views: latest.video_views,
    ...subs
  }).execute()
  return id
}
