import Type, { type Static, type TSchema } from 'typebox'
import { PageQuerySchema } from './common.js'
import { MetricsChangesSchema, MetricsConnectionSchema, MetricsRangeQueryProperties, MetricsHistoryPointSchema } from './twitch.js'
import { TwitterProfileSchema } from './profiles.js'

/**
 * X (Twitter) metrics (docs/api.md, "Twitch and X metrics"): the logged-in user's own connected account,
 * served by twitter-ingest. The connection, history points, the change periods and the refresh
 * receipt are the shapes shared with Twitch (./twitch.ts).
 */

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const DateTime = (description?: string) => Type.String({ format: 'date-time', ...(description === undefined ? {} : { description }) })
const Count = (description?: string) => Type.Integer({ minimum: 0, ...(description === undefined ? {} : { description }) })

/**
 * Engagement rate: over the account's recent own posts (reposts of others' posts left out), the
 * interactions per post — likes + reposts + replies + quotes — divided by the number of followers.
 * A ratio: 0.012 means 1.2 %. Null without followers or without recent own posts.
 */
export const TWITTER_ENGAGEMENT_RATE_DESCRIPTION =
  '(likes + reposts + replies + quotes) per recent own post (reposts left out), divided by followers; a ratio (0.012 = 1.2 %). ' +
  'Null without followers or recent own posts.'

export const TwitterMetricSchema = Type.Union([
  Type.Literal('followers'), Type.Literal('following'), Type.Literal('posts'), Type.Literal('listed'),
  Type.Literal('likes'), Type.Literal('engagementRate')
])
export type TwitterMetric = Static<typeof TwitterMetricSchema>

export const TwitterChangeSchema = Type.Object({
  since: DateTime('When the snapshot compared with was captured'),
  followers: Nullable(Type.Integer()),
  following: Nullable(Type.Integer()),
  posts: Nullable(Type.Integer()),
  listed: Nullable(Type.Integer()),
  likes: Nullable(Type.Integer()),
  engagementRate: Nullable(Type.Number())
}, { additionalProperties: false })
export type TwitterChange = Static<typeof TwitterChangeSchema>

/** `GET /twitter/overview`: numbers are null until the first refresh is stored. */
export const TwitterOverviewSchema = Type.Object({
  connection: MetricsConnectionSchema,
  capturedAt: Nullable(DateTime('When the latest snapshot was captured; null before the first refresh')),
  followers: Nullable(Count()),
  following: Nullable(Count()),
  posts: Nullable(Count('Posts the account has published (X\'s tweet_count)')),
  listed: Nullable(Count('Lists the account is on')),
  likes: Nullable(Count('Posts the account has liked (X\'s like_count); null when X does not send it')),
  engagementRate: Nullable(Type.Number({ minimum: 0, description: TWITTER_ENGAGEMENT_RATE_DESCRIPTION })),
  postsSampled: Nullable(Count('How many recent own posts the engagement rate is computed over')),
  profile: Nullable(TwitterProfileSchema),
  change: MetricsChangesSchema(TwitterChangeSchema)
}, { additionalProperties: false })
export type TwitterOverview = Static<typeof TwitterOverviewSchema>

export const TwitterHistoryQuerySchema = Type.Object({
  metric: TwitterMetricSchema,
  ...MetricsRangeQueryProperties
})
export type TwitterHistoryQuery = Static<typeof TwitterHistoryQuerySchema>

export const TwitterHistorySchema = Type.Object({
  metric: TwitterMetricSchema,
  from: DateTime(),
  to: DateTime(),
  points: Type.Array(MetricsHistoryPointSchema, { description: 'Oldest first; a long range is thinned to the last snapshot of equal buckets' })
}, { additionalProperties: false })
export type TwitterHistory = Static<typeof TwitterHistorySchema>

export const TwitterPostSortSchema = Type.Union([Type.Literal('recent'), Type.Literal('engagement')], {
  description: 'recent: newest first (default); engagement: most interactions first'
})
export type TwitterPostSort = Static<typeof TwitterPostSortSchema>

export const TwitterPostsQuerySchema = Type.Object({
  sort: Type.Optional(TwitterPostSortSchema),
  ...PageQuerySchema.properties
})
export type TwitterPostsQuery = Static<typeof TwitterPostsQuerySchema>

export const TwitterPostSchema = Type.Object({
  id: Type.String(),
  text: Type.String(),
  createdAt: Nullable(DateTime()),
  isRepost: Type.Boolean({ description: 'A repost of someone else\'s post (its numbers are not the account\'s)' }),
  likes: Count(),
  reposts: Count(),
  replies: Count(),
  quotes: Count(),
  bookmarks: Nullable(Count()),
  impressions: Nullable(Count()),
  engagement: Count('likes + reposts + replies + quotes')
}, { additionalProperties: false })
export type TwitterPost = Static<typeof TwitterPostSchema>

/** `GET /twitter/posts`: the recent posts of the latest refresh (at most TWITTER_MAX_POSTS, never past X's 3,200). */
export const TwitterPostListSchema = Type.Object({
  items: Type.Array(TwitterPostSchema),
  nextCursor: Nullable(Type.String()),
  capturedAt: Nullable(DateTime('When the posts were fetched (the latest refresh); null before the first'))
}, { additionalProperties: false })
export type TwitterPostList = Static<typeof TwitterPostListSchema>
