import type { IngestDatabase, SnapshotBaseTable } from '@pulse/ingest-kit'
import type { Generated, Kysely, Selectable, Transaction } from 'kysely'

/** The Postgres schema this service owns. */
export const SCHEMA = 'twitter_ingest'

/** One refresh of one account: the numbers of the overview and the history. */
export interface SnapshotsTable extends SnapshotBaseTable {
  followers: number
  following: number
  posts: number
  listed: number
  /** X's `like_count` of the user (posts they liked); optional in X's schema, so null when absent. */
  likes: number | null
  /** See TWITTER_ENGAGEMENT_RATE_DESCRIPTION; null without followers or recent own posts. */
  engagement_rate: number | null
  /** Own posts (reposts left out) the rate was computed over. */
  posts_sampled: number
}

/** The recent posts of the latest refresh, replaced whole by each refresh; position 0 is the newest. */
export interface PostsTable {
  user_id: string
  position: number
  post_id: string
  text: string
  created_at: Date | null
  is_repost: boolean
  likes: number
  reposts: number
  replies: number
  quotes: number
  bookmarks: number | null
  impressions: number | null
  engagement: number
}

/** The account's public profile from the latest refresh (GET /2/users/me). */
export interface ProfilesTable {
  user_id: string
  x_id: string
  username: string
  name: string
  profile_image_url: string | null
  description: string
  account_created_at: Date | null
  verified: boolean
  updated_at: Generated<Date>
}

export interface Database extends Omit<IngestDatabase, 'snapshots'> {
  snapshots: SnapshotsTable
  posts: PostsTable
  profiles: ProfilesTable
}

export type Db = Kysely<Database> | Transaction<Database>
export type SnapshotRow = Selectable<SnapshotsTable>

/** Metric names of the API → snapshot columns (the kit reads overview changes and history by them). */
export const TWITTER_METRIC_COLUMNS = {
  followers: 'followers',
  following: 'following',
  posts: 'posts',
  listed: 'listed',
  likes: 'likes',
  engagementRate: 'engagement_rate'
} as const

/** Every table that holds a user's X data (the unlink test checks them all). */
export const USER_TABLES = ['tracked_accounts', 'processed_refreshes', 'snapshots', 'snapshots_hourly', 'snapshots_daily', 'posts', 'profiles'] as const
