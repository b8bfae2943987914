import Type, { type Static } from 'typebox'
import { NotificationChannelSchema, NotificationKindSchema } from '../events/notify.js'

/** Field limits of the notify routes (docs/notify.md). */
export const NOTIFY_LIMITS = {
  urlMaxLength: 2000,
  descriptionMaxLength: 200,
  endpointsPerUser: 10,
  deliveriesPerPage: 50
} as const

/** One kind's channels, on or off (the user's choice, else the default). */
export const NotificationSettingSchema = Type.Object({
  kind: NotificationKindSchema,
  email: Type.Boolean(),
  webhook: Type.Boolean(),
  live: Type.Boolean()
}, { additionalProperties: false })
export type NotificationSetting = Static<typeof NotificationSettingSchema>

/** `GET /notify/settings`: every kind the caller may receive (`contact.received` for admins only). */
export const NotificationSettingsSchema = Type.Object({
  settings: Type.Array(NotificationSettingSchema)
}, { additionalProperties: false })
export type NotificationSettings = Static<typeof NotificationSettingsSchema>

/** `PATCH /notify/settings`: switch channels of kinds on or off; what is not named keeps its value. */
export const NotificationSettingsUpdateSchema = Type.Object({
  changes: Type.Array(Type.Object({
    kind: NotificationKindSchema,
    channel: NotificationChannelSchema,
    enabled: Type.Boolean()
  }, { additionalProperties: false }), { minItems: 1, maxItems: 15 })
}, { additionalProperties: false })
export type NotificationSettingsUpdate = Static<typeof NotificationSettingsUpdateSchema>

export const WebhookEndpointSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  url: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  enabled: Type.Boolean(),
  /** Why it was disabled (by its owner, or after failing for a day); null while enabled. */
  disabledReason: Type.Union([Type.String(), Type.Null()]),
  /** Since when every delivery failed; null when the last one succeeded. */
  failingSince: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' })
}, { additionalProperties: false })
export type WebhookEndpoint = Static<typeof WebhookEndpointSchema>

const WebhookUrlSchema = Type.String({
  minLength: 1,
  maxLength: NOTIFY_LIMITS.urlMaxLength,
  description: 'https only; the host must resolve to public addresses (unless the service allows private ones for local use)'
})
const DescriptionSchema = Type.String({ minLength: 1, maxLength: NOTIFY_LIMITS.descriptionMaxLength })

export const WebhookEndpointCreateSchema = Type.Object({
  url: WebhookUrlSchema,
  description: Type.Optional(DescriptionSchema)
}, { additionalProperties: false })
export type WebhookEndpointCreate = Static<typeof WebhookEndpointCreateSchema>

export const WebhookEndpointUpdateSchema = Type.Object({
  url: Type.Optional(WebhookUrlSchema),
  description: Type.Optional(Type.Union([DescriptionSchema, Type.Null()])),
  enabled: Type.Optional(Type.Boolean())
}, { additionalProperties: false, minProperties: 1 })
export type WebhookEndpointUpdate = Static<typeof WebhookEndpointUpdateSchema>

/** The endpoint and its signing secret (`whsec_…`), shown this once: on creation and on rotation. */
export const WebhookEndpointWithSecretSchema = Type.Object({
  endpoint: WebhookEndpointSchema,
  secret: Type.String({ pattern: '^whsec_' })
}, { additionalProperties: false })
export type WebhookEndpointWithSecret = Static<typeof WebhookEndpointWithSecretSchema>

export const WebhookEndpointListSchema = Type.Object({ items: Type.Array(WebhookEndpointSchema) }, { additionalProperties: false })
export type WebhookEndpointList = Static<typeof WebhookEndpointListSchema>

export const WebhookEndpointParamsSchema = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false })
export type WebhookEndpointParams = Static<typeof WebhookEndpointParamsSchema>

export const DeliveryStatusSchema = Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed')], {
  description: 'pending: waiting for its next attempt; sent: answered 2xx; failed: given up after a day, or its endpoint was disabled'
})

export const WebhookAttemptSchema = Type.Object({
  attempt: Type.Integer({ minimum: 1 }),
  at: Type.String({ format: 'date-time' }),
  /** The receiver's HTTP status; null when no answer came (refused, timed out, blocked address). */
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  latencyMs: Type.Integer({ minimum: 0 }),
  error: Type.Union([Type.String(), Type.Null()])
}, { additionalProperties: false })

export const WebhookDeliverySchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  /** The `webhook-id` header: the same on every attempt of this delivery. */
  messageId: Type.String(),
  kind: Type.String(),
  status: DeliveryStatusSchema,
  attempts: Type.Array(WebhookAttemptSchema),
  nextAttemptAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' })
}, { additionalProperties: false })
export type WebhookDelivery = Static<typeof WebhookDeliverySchema>

/** `GET /notify/webhooks/:id/deliveries`: the delivery log, newest first (the last 50). */
export const WebhookDeliveryListSchema = Type.Object({ items: Type.Array(WebhookDeliverySchema) }, { additionalProperties: false })
export type WebhookDeliveryList = Static<typeof WebhookDeliveryListSchema>

export const WebhookTestReceiptSchema = Type.Object({ deliveryId: Type.String({ format: 'uuid' }) }, { additionalProperties: false })
export type WebhookTestReceipt = Static<typeof WebhookTestReceiptSchema>

/** `GET /notify/unsubscribe?token`: the signed one-click link of a mail. */
export const UnsubscribeQuerySchema = Type.Object({ token: Type.String({ minLength: 10, maxLength: 500 }) }, { additionalProperties: false })
export const UnsubscribedSchema = Type.Object({ kind: NotificationKindSchema, channel: Type.Literal('email'), enabled: Type.Literal(false) }, { additionalProperties: false })

/** `GET`/`PUT /notify/mood-reminder`: the daily reminder's local time (`HH:MM`, 24-hour), null: no reminder. */
export const MoodReminderSchema = Type.Object({
  time: Type.Union([Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' }), Type.Null()]),
  /** The account's time zone the time is read in (it follows the account's setting). */
  timezone: Type.String()
}, { additionalProperties: false })
export type MoodReminder = Static<typeof MoodReminderSchema>

export const MoodReminderUpdateSchema = Type.Object({
  time: Type.Union([Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'HH:MM, 24-hour, in your time zone' }), Type.Null()])
}, { additionalProperties: false })
export type MoodReminderUpdate = Static<typeof MoodReminderUpdateSchema>
