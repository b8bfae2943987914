import Type, { type Static, type TSchema } from 'typebox'
import { PageQuerySchema } from './common.js'
import { TwitchProfileSchema } from './profiles.js'

/**
 * Twitch metrics (docs/api.md, "Twitch and X metrics"): the logged-in user's own connected account,
 * served by twitch-ingest. The shapes that both metrics services share (the connection, history
 * points, the refresh receipt) are defined here once and used by ./twitter.ts too.
 */

/**
 * The scopes twitch-ingest needs on the user's token (auth asks for them when the account is
 * connected): followed channels and live followed streams, the follower list (a token without it
 * still gets the follower total, docs/providers.md §1.3), subscriptions, the bits leaderboard.
 */
export const TWITCH_INGEST_SCOPES = ['user:read:follows', 'moderator:read:followers', 'channel:read:subscriptions', 'bits:read'] as const

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const DateTime = (description?: string) => Type.String({ format: 'date-time', ...(description === undefined ? {} : { description }) })
const Count = (description?: string) => Type.Integer({ minimum: 0, ...(description === undefined ? {} : { description }) })

// ------------------------------------------------------------------------------------------------
// Shared by both metrics services

/** The connected account as the ingest service tracks it. */
export const MetricsConnectionSchema = Type.Object({
  providerUserId: Type.String(),
  login: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('invalidated')], {
    description: 'invalidated: the provider no longer accepts the connection; connect the account again'
  }),
  lastRefreshedAt: Nullable(DateTime('When the latest snapshot was stored')),
  lastFailure: Nullable(Type.Object({
    reason: Type.String({ description: 'rate_limited, token_revoked, provider_unavailable, not_connected or internal' }),
    at: DateTime()
  }, { additionalProperties: false, description: 'The latest refresh that failed, if none succeeded since' }))
}, { additionalProperties: false })
export type MetricsConnection = Static<typeof MetricsConnectionSchema>

export const MetricsHistoryPointSchema = Type.Object({
  t: DateTime('When the snapshot was captured'),
  value: Type.Number()
}, { additionalProperties: false })
export type MetricsHistoryPoint = Static<typeof MetricsHistoryPointSchema>

/** `POST /twitch/refresh`, `POST /twitter/refresh` answer (202). */
export const MetricsRefreshAcceptedSchema = Type.Object({
  requestedAt: DateTime('The refresh is requested; a metrics.refreshed (or metrics.refresh.failed) live update follows')
}, { additionalProperties: false })
export type MetricsRefreshAccepted = Static<typeof MetricsRefreshAcceptedSchema>

/** `?from&to` of a history: ISO date-times; the last 30 days by default, a bounded range at most. */
export const MetricsRangeQueryProperties = {
  from: Type.Optional(DateTime('Start of the range (inclusive); default: 30 days before `to`')),
  to: Type.Optional(DateTime('End of the range (inclusive); default: now'))
}

/** The change of each metric over a period, or null when no snapshot is that old. */
export function MetricsChangesSchema<T extends TSchema> (change: T) {
  return Type.Object({
    '1d': Nullable(change),
    '7d': Nullable(change),
    '30d': Nullable(change)
  }, {
    additionalProperties: false,
    description: 'latest − the newest snapshot captured at or before now − 1, 7 and 30 days (null when there is none that old)'
  })
}

// ------------------------------------------------------------------------------------------------
// Overview and history

export const TwitchMetricSchema = Type.Union([
  Type.Literal('followers'), Type.Literal('subscribers'), Type.Literal('subscriberPoints'),
  Type.Literal('followedChannels'), Type.Literal('videoViews'), Type.Literal('videoCount')
])
export type TwitchMetric = Static<typeof TwitchMetricSchema>

export const TwitchSubscribersSchema = Type.Object({
  total: Count(),
  points: Count('Tier 1 = 1 point, tier 2 = 2, tier 3 = 6'),
  tiers: Type.Object({ 1000: Count(), 2000: Count(), 3000: Count() }, { additionalProperties: false, description: 'Subscriptions per tier' })
}, { additionalProperties: false })
export type TwitchSubscribers = Static<typeof TwitchSubscribersSchema>

export const TwitchChangeSchema = Type.Object({
  since: DateTime('When the snapshot compared with was captured'),
  followers: Nullable(Type.Integer()),
  subscribers: Nullable(Type.Integer()),
  subscriberPoints: Nullable(Type.Integer()),
  followedChannels: Nullable(Type.Integer()),
  videoViews: Nullable(Type.Integer()),
  videoCount: Nullable(Type.Integer())
}, { additionalProperties: false })
export type TwitchChange = Static<typeof TwitchChangeSchema>

/** `GET /twitch/overview`: metrics are null until the first refresh is stored (or without the scope). */
export const TwitchOverviewSchema = Type.Object({
  connection: MetricsConnectionSchema,
  capturedAt: Nullable(DateTime('When the latest snapshot was captured; null before the first refresh')),
  followers: Nullable(Count()),
  subscribers: Nullable(TwitchSubscribersSchema),
  followedChannels: Nullable(Count('Channels this account follows')),
  videos: Nullable(Type.Object({
    count: Count('Videos of every type: archives, highlights, uploads'),
    views: Count('Their views together')
  }, { additionalProperties: false })),
  profile: Nullable(TwitchProfileSchema),
  change: MetricsChangesSchema(TwitchChangeSchema)
}, { additionalProperties: false })
export type TwitchOverview = Static<typeof TwitchOverviewSchema>

export const TwitchHistoryQuerySchema = Type.Object({
  metric: TwitchMetricSchema,
  ...MetricsRangeQueryProperties
})
export type TwitchHistoryQuery = Static<typeof TwitchHistoryQuerySchema>

export const TwitchHistorySchema = Type.Object({
  metric: TwitchMetricSchema,
  from: DateTime(),
  to: DateTime(),
  points: Type.Array(MetricsHistoryPointSchema, { description: 'Oldest first; a long range is thinned to the last snapshot of equal buckets' })
}, { additionalProperties: false })
export type TwitchHistory = Static<typeof TwitchHistorySchema>

// ------------------------------------------------------------------------------------------------
// Lists kept from the latest refresh

export const TwitchListQuerySchema = PageQuerySchema
export type TwitchListQuery = Static<typeof TwitchListQuerySchema>

function TwitchListSchema<T extends TSchema> (item: T, description: string) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Nullable(Type.String()),
    capturedAt: Nullable(DateTime('When the list was fetched (the latest refresh); null before the first'))
  }, { additionalProperties: false, description })
}

export const TwitchVideoSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  type: Type.String({ description: 'archive, highlight or upload' }),
  url: Type.String(),
  thumbnailUrl: Type.String({ description: 'Twitch template: replace %{width}x%{height}' }),
  createdAt: DateTime(),
  publishedAt: DateTime(),
  viewCount: Count(),
  duration: Type.String({ description: 'As Twitch writes it, e.g. 3h2m11s' })
}, { additionalProperties: false })
export type TwitchVideo = Static<typeof TwitchVideoSchema>
export const TwitchVideoListSchema = TwitchListSchema(TwitchVideoSchema, 'The channel\'s videos, newest first')
export type TwitchVideoList = Static<typeof TwitchVideoListSchema>

export const TwitchSubscriberSchema = Type.Object({
  userId: Type.String(),
  login: Type.String(),
  displayName: Type.String(),
  tier: Type.Union([Type.Literal('1000'), Type.Literal('2000'), Type.Literal('3000')]),
  isGift: Type.Boolean(),
  gifterLogin: Nullable(Type.String())
}, { additionalProperties: false })
export type TwitchSubscriber = Static<typeof TwitchSubscriberSchema>
export const TwitchSubscriberListSchema = TwitchListSchema(TwitchSubscriberSchema, 'The channel\'s subscribers in Twitch\'s order')
export type TwitchSubscriberList = Static<typeof TwitchSubscriberListSchema>

export const TwitchBitsLeaderSchema = Type.Object({
  rank: Type.Integer({ minimum: 1 }),
  userId: Type.String(),
  login: Type.String(),
  displayName: Type.String(),
  score: Count('Bits cheered')
}, { additionalProperties: false })
export type TwitchBitsLeader = Static<typeof TwitchBitsLeaderSchema>
export const TwitchBitsLeaderboardSchema = TwitchListSchema(TwitchBitsLeaderSchema, 'The all-time bits leaderboard, best first')
export type TwitchBitsLeaderboard = Static<typeof TwitchBitsLeaderboardSchema>

export const TwitchStreamSchema = Type.Object({
  streamId: Type.String(),
  broadcasterId: Type.String(),
  login: Type.String(),
  displayName: Type.String(),
  gameId: Type.String(),
  gameName: Type.String(),
  title: Type.String(),
  viewerCount: Count(),
  startedAt: DateTime(),
  language: Type.String(),
  thumbnailUrl: Type.String({ description: 'Twitch template: replace {width}x{height}' })
}, { additionalProperties: false })
export type TwitchStream = Static<typeof TwitchStreamSchema>
export const TwitchLiveFollowListSchema = TwitchListSchema(TwitchStreamSchema, 'Channels the account follows that were live at the latest refresh')
export type TwitchLiveFollowList = Static<typeof TwitchLiveFollowListSchema>

// ------------------------------------------------------------------------------------------------
// What is popular on Twitch now (public, cached)

function TwitchTopListSchema<T extends TSchema> (item: T, description: string) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Nullable(Type.String()),
    fetchedAt: DateTime('When the list was fetched from Twitch (it is cached for a while)')
  }, { additionalProperties: false, description })
}

export const TwitchTopStreamListSchema = TwitchTopListSchema(TwitchStreamSchema, 'Live streams with the most viewers now')
export type TwitchTopStreamList = Static<typeof TwitchTopStreamListSchema>

export const TwitchGameSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  boxArtUrl: Type.String({ description: 'Twitch template: replace {width}x{height}' }),
  igdbId: Type.String()
}, { additionalProperties: false })
export type TwitchGame = Static<typeof TwitchGameSchema>
export const TwitchTopGameListSchema = TwitchTopListSchema(TwitchGameSchema, 'Categories watched most now')
export type TwitchTopGameList = Static<typeof TwitchTopGameListSchema>

// ------------------------------------------------------------------------------------------------
// Stream sessions and the EventSub webhook (docs/providers.md §1.5)

export const TwitchStreamSessionSchema = Type.Object({
  id: Type.String(),
  streamId: Type.String({ description: 'Twitch\'s id of the stream' }),
  startedAt: DateTime(),
  endedAt: Nullable(DateTime('Null while the stream is live')),
  durationSeconds: Count('From the start to the end, or to now while live'),
  gameId: Nullable(Type.String()),
  gameName: Nullable(Type.String()),
  peakViewers: Nullable(Count('The most viewers of a sample; null before the first sample')),
  averageViewers: Nullable(Type.Number({ minimum: 0, description: 'The mean of the samples taken while live' })),
  samples: Count('Viewer counts sampled while live')
}, { additionalProperties: false })
export type TwitchStreamSession = Static<typeof TwitchStreamSessionSchema>
export const TwitchStreamSessionListSchema = Type.Object({
  items: Type.Array(TwitchStreamSessionSchema),
  nextCursor: Nullable(Type.String())
}, { additionalProperties: false, description: 'The channel\'s stream sessions, newest first' })
export type TwitchStreamSessionList = Static<typeof TwitchStreamSessionListSchema>

/** The EventSub headers the callback requires (all but the retry count). */
export const TWITCH_WEBHOOK_REQUIRED_HEADERS = [
  'twitch-eventsub-message-id', 'twitch-eventsub-message-type', 'twitch-eventsub-message-signature',
  'twitch-eventsub-message-timestamp', 'twitch-eventsub-subscription-type', 'twitch-eventsub-subscription-version'
] as const

/**
 * The headers of every EventSub webhook message, as validated when present. Which ones must be
 * there is checked by the route itself (TWITCH_WEBHOOK_REQUIRED_HEADERS), so that a message without
 * one is refused with a 400 that names it, after the route knows EventSub is on.
 */
export const TwitchWebhookHeadersSchema = Type.Object({
  'twitch-eventsub-message-id': Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Required' })),
  'twitch-eventsub-message-retry': Type.Optional(Type.String({ pattern: '^\\d{1,6}$' })),
  'twitch-eventsub-message-type': Type.Optional(Type.Union([Type.Literal('notification'), Type.Literal('webhook_callback_verification'), Type.Literal('revocation')], { description: 'Required' })),
  'twitch-eventsub-message-signature': Type.Optional(Type.String({ pattern: '^sha256=[0-9a-fA-F]{64}$', description: 'Required' })),
  'twitch-eventsub-message-timestamp': Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Required' })),
  'twitch-eventsub-subscription-type': Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Required' })),
  'twitch-eventsub-subscription-version': Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'Required' }))
})
