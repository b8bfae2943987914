import type { IngestDatabase, SnapshotBaseTable } from '@pulse/ingest-kit'
import type { Generated, Kysely, Selectable, Transaction } from 'kysely'

/** The Postgres schema this service owns. */
export const SCHEMA = 'twitch_ingest'

/** One refresh of one account: the numbers of the overview and the history. */
export interface SnapshotsTable extends SnapshotBaseTable {
  followers: number
  /** Null when the token lacks channel:read:subscriptions. */
  subscribers_total: number | null
  subscriber_points: number | null
  subscribers_tier1: number | null
  subscribers_tier2: number | null
  subscribers_tier3: number | null
  /** Null when the token lacks user:read:follows. */
  followed_channels: number | null
  video_count: number
  video_views: number
}

/** The lists of the latest refresh, replaced whole by each refresh; `position` is the order Twitch gave. */
export interface VideosTable {
  user_id: string
  position: number
  video_id: string
  title: string
  type: string
  url: string
  thumbnail_url: string
  created_at: Date
  published_at: Date
  view_count: number
  duration: string
}

export interface SubscribersTable {
  user_id: string
  position: number
  subscriber_id: string
  login: string
  display_name: string
  tier: '1000' | '2000' | '3000'
  is_gift: boolean
  gifter_login: string | null
}

export interface BitsLeaderboardTable {
  user_id: string
  position: number
  rank: number
  viewer_id: string
  login: string
  display_name: string
  score: number
}

export interface LiveFollowsTable {
  user_id: string
  position: number
  stream_id: string
  broadcaster_id: string
  login: string
  display_name: string
  game_id: string
  game_name: string
  title: string
  viewer_count: number
  started_at: Date
  language: string
  thumbnail_url: string
}

export interface EventSubReceivedTable { message_id: string, received_at: Generated<Date> }
export interface EventSubAppliedTable { message_id: string, applied_at: Generated<Date> }

export interface StreamSessionsTable {
  id: Generated<string>
  user_id: string
  broadcaster_id: string
  stream_id: string
  started_at: Date
  ended_at: Date | null
  game_id: string | null
  game_name: string | null
}

export interface StreamSamplesTable {
  session_id: string
  /** floor(sampled time / sampling interval): one sample per slot, whichever replica takes it. */
  slot: number
  viewers: number
  sampled_at: Date
}

/** The account's public profile from the latest refresh (Helix Get Users). */
export interface ProfilesTable {
  user_id: string
  twitch_id: string
  login: string
  display_name: string
  profile_image_url: string
  description: string
  account_created_at: Date
  broadcaster_type: string
  updated_at: Generated<Date>
}

/** The channel's most recent followers, newest first (`position` 0 is the newest). */
export interface RecentFollowersTable {
  user_id: string
  position: number
  follower_id: string
  login: string
  display_name: string
  followed_at: Date
}

export interface EventSubLeasesTable { name: string, holder: string, expires_at: Date }

export interface Database extends Omit<IngestDatabase, 'snapshots'> {
  snapshots: SnapshotsTable
  videos: VideosTable
  subscribers: SubscribersTable
  bits_leaderboard: BitsLeaderboardTable
  live_follows: LiveFollowsTable
  eventsub_received: EventSubReceivedTable
  eventsub_applied: EventSubAppliedTable
  stream_sessions: StreamSessionsTable
  stream_samples: StreamSamplesTable
  eventsub_leases: EventSubLeasesTable
  profiles: ProfilesTable
  recent_followers: RecentFollowersTable
}

export type Db = Kysely<Database> | Transaction<Database>
export type SnapshotRow = Selectable<SnapshotsTable>

/** Metric names of the API → snapshot columns (the kit reads overview changes and history by them). */
export const TWITCH_METRIC_COLUMNS = {
  followers: 'followers',
  subscribers: 'subscribers_total',
  subscriberPoints: 'subscriber_points',
  followedChannels: 'followed_channels',
  videoViews: 'video_views',
  videoCount: 'video_count'
} as const

/** Every table that holds a user's Twitch data (the unlink test checks them all). */
export const USER_TABLES = ['tracked_accounts', 'processed_refreshes', 'snapshots', 'snapshots_hourly', 'snapshots_daily', 'videos', 'subscribers', 'bits_leaderboard', 'live_follows', 'stream_sessions', 'profiles', 'recent_followers'] as const
