import Type from 'typebox'
import { ProviderNameSchema } from '../provider.js'
import { defineEvent, type StreamContract } from './define.js'

/**
 * Twitch EventSub (docs/providers.md §1.5). The webhook hands each verified message to this stream
 * and answers Twitch at once; twitch-ingest's durable consumer applies it, once, on any replica.
 */
export const TWITCH_EVENTSUB_STREAM: StreamContract = { name: 'TWITCH_EVENTSUB', subjects: ['twitch.eventsub.>', 'twitch.authorization.>'] }

/** A verified EventSub message (signature, age and first sight checked), as Twitch sent it. */
export const TwitchEventSubMessageV1 = defineEvent('twitch.eventsub.message.v1', Type.Object({
  messageId: Type.String({ minLength: 1, maxLength: 200 }),
  messageType: Type.Union([Type.Literal('notification'), Type.Literal('revocation')]),
  subscriptionType: Type.String({ minLength: 1, maxLength: 200 }),
  subscriptionVersion: Type.String({ minLength: 1, maxLength: 20 }),
  /** Twitch-Eventsub-Message-Timestamp. */
  sentAt: Type.String({ format: 'date-time' }),
  /** The parsed body: `{ subscription, event }` for a notification, `{ subscription }` for a revocation. */
  body: Type.Record(Type.String(), Type.Unknown())
}))

/**
 * The Twitch user took back their authorization of the app (user.authorization.revoke): auth marks
 * the connection invalid and deletes its tokens.
 */
export const TwitchAuthorizationRevokedV1 = defineEvent('twitch.authorization.revoked.v1', Type.Object({
  userId: Type.String(),
  provider: ProviderNameSchema,
  providerUserId: Type.String(),
  revokedAt: Type.String({ format: 'date-time' })
}))
