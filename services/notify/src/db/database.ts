import type { NotificationChannel, NotificationKind } from '@pulse/contracts'
import type { OutboxTable } from '@pulse/service-kit'
import type { ColumnType, Generated, Kysely, Selectable, Transaction } from 'kysely'

export interface SettingsTable {
  user_id: string
  kind: NotificationKind
  channel: NotificationChannel
  enabled: boolean
  updated_at: ColumnType<Date, Date | undefined, Date>
}

export interface WebhookEndpointsTable {
  id: Generated<string>
  user_id: string
  url: string
  description: string | null
  /** The signing secret, `whsec_<base64>`: it must be readable to sign, so it is stored as is. */
  secret: string
  previous_secret: ColumnType<string | null, string | null | undefined, string | null>
  previous_secret_until: ColumnType<Date | null, Date | null | undefined, Date | null>
  enabled: ColumnType<boolean, boolean | undefined, boolean>
  disabled_reason: ColumnType<string | null, string | null | undefined, string | null>
  failing_since: ColumnType<Date | null, Date | null | undefined, Date | null>
  created_at: ColumnType<Date, never, never>
  updated_at: ColumnType<Date, Date | undefined, Date>
}

export type DeliveryStatus = 'pending' | 'sent' | 'failed' | 'held'

/** What a delivery carries: enough to render the mail or the webhook body, never a secret. */
export interface DeliveryPayload {
  title: string
  body: string
  /** A link for the reader (the inbox, the channel, the settings page). */
  url?: string
  /** The event's own fields, as the webhook's `data`. */
  data: Record<string, unknown>
  /** When what it is about happened. */
  at: string
}

export interface DeliveriesTable {
  id: Generated<string>
  event_key: string
  kind: string
  user_id: string
  channel: NotificationChannel
  /** The endpoint id of a webhook delivery; the channel's name otherwise. */
  target: string
  endpoint_id: string | null
  /** The address of a mail; null until it is known (asked of auth when sending). */
  recipient: ColumnType<string | null, string | null | undefined, string | null>
  payload: ColumnType<DeliveryPayload, string, string>
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>
  attempts: ColumnType<number, number | undefined, number>
  next_attempt_at: ColumnType<Date | null, Date | null | undefined, Date | null>
  last_error: ColumnType<string | null, string | null | undefined, string | null>
  created_at: ColumnType<Date, Date | undefined, never>
  sent_at: ColumnType<Date | null, Date | null | undefined, Date | null>
}

export interface DeliveryAttemptsTable {
  id: Generated<string>
  delivery_id: string
  attempt: number
  at: ColumnType<Date, Date | undefined, never>
  status_code: number | null
  latency_ms: number
  error: string | null
}

export interface AudienceStateTable {
  user_id: string
  /** The highest milestone (100, 1000, …) already reached; null below 100 or unknown. */
  followers_milestone: number | null
  subscribers_milestone: number | null
  first_seen_at: ColumnType<Date, never, never>
}

export interface FollowedStreamsTable {
  user_id: string
  stream_id: string
  seen_at: ColumnType<Date, Date | undefined, never>
}

export interface MoodRemindersTable {
  user_id: string
  local_time: string
  timezone: string
  updated_at: ColumnType<Date, Date | undefined, Date>
}

export interface RemindersSentTable {
  user_id: string
  /** The user's calendar day; written as `YYYY-MM-DD` (pg reads a date back as a Date at local midnight: compare as text in SQL). */
  local_date: ColumnType<Date, string, never>
  outcome: 'sent' | 'already_logged' | 'no_channel'
  at: ColumnType<Date, Date | undefined, never>
}

export interface Database extends OutboxTable {
  mood_reminders: MoodRemindersTable
  reminders_sent: RemindersSentTable
  settings: SettingsTable
  audience_state: AudienceStateTable
  followed_streams: FollowedStreamsTable
  webhook_endpoints: WebhookEndpointsTable
  deliveries: DeliveriesTable
  delivery_attempts: DeliveryAttemptsTable
}

export type Db = Kysely<Database> | Transaction<Database>
export type EndpointRow = Selectable<WebhookEndpointsTable>
export type DeliveryRow = Selectable<DeliveriesTable>

/** The Postgres schema this service owns. */
export const NOTIFY_SCHEMA = 'notify'
