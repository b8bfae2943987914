import Type, { type Static } from 'typebox'
import { defineEvent, type StreamContract } from './define.js'
import type { RequestReplyContract } from './tokens.js'

export const NOTIFY_STREAM: StreamContract = { name: 'NOTIFY', subjects: ['notify.>'] }

/** What a notification is about; each has its own on/off per channel (GET /notify/settings). */
export const NOTIFICATION_KINDS = ['contact.received', 'channel.live', 'milestone', 'connection.broken', 'mood.reminder'] as const
export type NotificationKind = typeof NOTIFICATION_KINDS[number]
export const NotificationKindSchema = Type.Union([
  Type.Literal('contact.received'), Type.Literal('channel.live'), Type.Literal('milestone'), Type.Literal('connection.broken'), Type.Literal('mood.reminder')
])

/** Where a notification goes: mail to the verified address, the user's webhooks, the dashboard's /events. */
export const NOTIFICATION_CHANNELS = ['email', 'webhook', 'live'] as const
export type NotificationChannel = typeof NOTIFICATION_CHANNELS[number]
export const NotificationChannelSchema = Type.Union([Type.Literal('email'), Type.Literal('webhook'), Type.Literal('live')])

/**
 * A notification for a user's open dashboards (the `live` channel): the gateway hands it to the
 * user's /events streams as `notification`. Never holds a secret.
 */
export const NotificationV1 = defineEvent('notify.notification.v1', Type.Object({
  userId: Type.String(),
  id: Type.String(),
  kind: NotificationKindSchema,
  title: Type.String(),
  body: Type.String(),
  at: Type.String({ format: 'date-time' })
}))

/**
 * Who notify writes to: the admins (a contact message arrived) or given users, with their verified
 * address. Auth owns users and answers (core NATS request-reply, like the token requests).
 */
export const RECIPIENTS_SUBJECTS = { notify: 'rpc.auth.recipients.v1' } as const

export const RecipientsRequestSchema = Type.Union([
  Type.Object({ role: Type.Literal('admin') }, { additionalProperties: false }),
  Type.Object({ userIds: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 100 }) }, { additionalProperties: false })
])
export type RecipientsRequest = Static<typeof RecipientsRequestSchema>

export const RecipientSchema = Type.Object({
  userId: Type.String(),
  role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
  displayName: Type.String(),
  /** Only a verified address; null when the user has none. */
  email: Type.Union([Type.String(), Type.Null()]),
  timezone: Type.String()
})
export type Recipient = Static<typeof RecipientSchema>

export const RecipientsReplySchema = Type.Union([
  Type.Object({ ok: Type.Literal(true), recipients: Type.Array(RecipientSchema) }),
  Type.Object({
    ok: Type.Literal(false),
    /** unavailable: auth's database did not answer, ask again later; invalid: a malformed request. */
    error: Type.Union([Type.Literal('unavailable'), Type.Literal('invalid')]),
    message: Type.String()
  })
])
export type RecipientsReply = Static<typeof RecipientsReplySchema>

export const RecipientsRpcV1 = {
  name: 'auth.recipients.v1',
  subjects: RECIPIENTS_SUBJECTS,
  request: RecipientsRequestSchema,
  reply: RecipientsReplySchema
} as const satisfies RequestReplyContract<typeof RecipientsRequestSchema, typeof RecipientsReplySchema, 'notify'>

/**
 * Whether a user has logged their mood for a day (their own calendar day, `YYYY-MM-DD`): notify asks
 * mood before it sends the daily reminder, so none goes out once the entry exists.
 */
export const MOOD_DAY_SUBJECTS = { notify: 'rpc.mood.day-logged.v1' } as const

export const MoodDayRequestSchema = Type.Object({
  userId: Type.String({ minLength: 1, maxLength: 100 }),
  day: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })
}, { additionalProperties: false })
export type MoodDayRequest = Static<typeof MoodDayRequestSchema>

export const MoodDayReplySchema = Type.Union([
  Type.Object({ ok: Type.Literal(true), logged: Type.Boolean() }),
  Type.Object({ ok: Type.Literal(false), error: Type.Union([Type.Literal('unavailable'), Type.Literal('invalid')]), message: Type.String() })
])
export type MoodDayReply = Static<typeof MoodDayReplySchema>

export const MoodDayRpcV1 = {
  name: 'mood.day-logged.v1',
  subjects: MOOD_DAY_SUBJECTS,
  request: MoodDayRequestSchema,
  reply: MoodDayReplySchema
} as const satisfies RequestReplyContract<typeof MoodDayRequestSchema, typeof MoodDayReplySchema, 'notify'>
