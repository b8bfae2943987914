import Type from 'typebox'
import { ProviderNameSchema } from '../provider.js'
import { defineEvent, type StreamContract } from './define.js'

export const METRICS_STREAM: StreamContract = { name: 'METRICS', subjects: ['metrics.>'] }

const ProviderName = ProviderNameSchema

const RefreshRequested = Type.Object({
  userId: Type.String(),
  reason: Type.Union([Type.Literal('scheduled'), Type.Literal('manual'), Type.Literal('linked')]),
  requestedAt: Type.String({ format: 'date-time' })
})
const Refreshed = Type.Object({
  userId: Type.String(),
  provider: ProviderName,
  capturedAt: Type.String({ format: 'date-time' }),
  snapshotId: Type.String()
})
const RefreshFailed = Type.Object({
  userId: Type.String(),
  provider: ProviderName,
  reason: Type.Union([
    Type.Literal('rate_limited'), Type.Literal('token_revoked'), Type.Literal('provider_unavailable'),
    Type.Literal('not_connected'), Type.Literal('internal')
  ]),
  message: Type.String(),
  failedAt: Type.String({ format: 'date-time' })
})

export const TwitchRefreshRequestedV1 = defineEvent('metrics.refresh.requested.v1.twitch', RefreshRequested)
export const TwitterRefreshRequestedV1 = defineEvent('metrics.refresh.requested.v1.twitter', RefreshRequested)
export const TwitchRefreshedV1 = defineEvent('metrics.refreshed.v1.twitch', Refreshed)
export const TwitterRefreshedV1 = defineEvent('metrics.refreshed.v1.twitter', Refreshed)
export const TwitchRefreshFailedV1 = defineEvent('metrics.refresh.failed.v1.twitch', RefreshFailed)
export const TwitterRefreshFailedV1 = defineEvent('metrics.refresh.failed.v1.twitter', RefreshFailed)

/** Each provider's three refresh events (requested, refreshed, failed), as its ingest service uses them. */
export const METRICS_CONTRACTS = {
  twitch: { requested: TwitchRefreshRequestedV1, refreshed: TwitchRefreshedV1, failed: TwitchRefreshFailedV1 },
  twitter: { requested: TwitterRefreshRequestedV1, refreshed: TwitterRefreshedV1, failed: TwitterRefreshFailedV1 }
} as const

/** Something happened on the channel (EventSub): the numbers changed at once, before the next refresh. */
export const TwitchChannelActivityV1 = defineEvent('metrics.activity.v1.twitch', Type.Object({
  userId: Type.String(),
  provider: ProviderName,
  kind: Type.Union([Type.Literal('follow'), Type.Literal('subscribe'), Type.Literal('gift'), Type.Literal('cheer')]),
  /** Subscriptions gifted, bits cheered; 1 for a follow or a subscription. */
  amount: Type.Integer({ minimum: 0 }),
  /** The snapshot with the new numbers (none for a cheer: bits are not a snapshot number). */
  snapshotId: Type.Union([Type.String(), Type.Null()]),
  at: Type.String({ format: 'date-time' })
}))

/** The channel went live or offline; `sessionId` names the stream session (GET /twitch/streams). */
export const TwitchStreamChangedV1 = defineEvent('metrics.stream.v1.twitch', Type.Object({
  userId: Type.String(),
  provider: ProviderName,
  state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
  sessionId: Type.String(),
  at: Type.String({ format: 'date-time' })
}))

/** The user took back Pulse's access on the provider's side: the connection is over. */
export const TwitchConnectionRevokedV1 = defineEvent('metrics.connection.revoked.v1.twitch', Type.Object({
  userId: Type.String(),
  provider: ProviderName,
  revokedAt: Type.String({ format: 'date-time' })
}))

/** At most this many followed live channels travel in one audience event (the rest are not announced). */
export const AUDIENCE_LIVE_FOLLOWS_MAX = 100

/**
 * What a refresh saw of the account's audience: its follower and subscriber counts (null when the
 * grant does not allow reading them) and the followed channels live at that moment. Written with the
 * snapshot; notify turns changes between refreshes into notifications (a channel went live, a
 * milestone was reached).
 */
export const TwitchAudienceV1 = defineEvent('metrics.audience.v1.twitch', Type.Object({
  userId: Type.String(),
  snapshotId: Type.String(),
  capturedAt: Type.String({ format: 'date-time' }),
  followers: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  subscribers: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  liveFollows: Type.Array(Type.Object({
    /** Twitch's id of the stream: one per broadcast, so "went live" is announced once per stream. */
    streamId: Type.String(),
    broadcasterId: Type.String(),
    login: Type.String(),
    displayName: Type.String(),
    title: Type.String(),
    gameName: Type.String(),
    startedAt: Type.String({ format: 'date-time' })
  }), { maxItems: AUDIENCE_LIVE_FOLLOWS_MAX })
}))
