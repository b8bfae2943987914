import Type from 'typebox'
import { MailConfigProperties } from '@pulse/mail'
import {
  BaseConfigProperties, DEVELOPMENT_SECRETS, DatabaseConfigProperties, NatsConfigProperties, loadConfig
} from '@pulse/service-kit'
import { cidrProblem } from './webhooks/address-policy.js'

const HOUR_MS = 60 * 60 * 1000
const DAY_MS = 24 * HOUR_MS

export const NotifyConfigProperties = {
  ...BaseConfigProperties,
  ...DatabaseConfigProperties,
  ...NatsConfigProperties,
  ...MailConfigProperties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3006 }),
  /** The public address of the gateway: the one-click unsubscribe links of mails point at it. */
  PUBLIC_URL: Type.String({ default: 'http://127.0.0.1:3000', 'x-url-protocols': ['http', 'https'] }),
  /** The dashboard: the links of mails (the contact inbox, the settings page). */
  FRONTEND_URL: Type.String({ default: 'http://127.0.0.1:3000', 'x-url-protocols': ['http', 'https'] }),
  /** Signs the one-click unsubscribe links (HMAC-SHA256). */
  NOTIFY_LINK_SECRET: Type.String({ minLength: 32, default: DEVELOPMENT_SECRETS.NOTIFY_LINK_SECRET, 'x-secret': true }),
  /**
   * Local use and tests only: webhook URLs may be `http` and reach loopback, private and link-local
   * addresses. Refused with NODE_ENV=production.
   */
  NOTIFY_WEBHOOKS_ALLOW_PRIVATE: Type.Boolean({ default: false }),
  /**
   * Private ranges webhooks may reach even in production, separated by commas (an internal receiver
   * the operators trust), e.g. `10.1.2.0/24`. Empty by default.
   */
  NOTIFY_WEBHOOKS_ALLOWED_CIDRS: Type.String({ default: '' }),
  /** How long one webhook attempt may take (connect, send, answer). */
  NOTIFY_WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  /** The delay before the first retry; it doubles (with jitter) up to NOTIFY_RETRY_MAX_MS. */
  NOTIFY_RETRY_BASE_MS: Type.Integer({ minimum: 10, default: 30_000 }),
  NOTIFY_RETRY_MAX_MS: Type.Integer({ minimum: 10, default: HOUR_MS }),
  /** A delivery still failing this long after it was created is given up. */
  NOTIFY_RETRY_WINDOW_MS: Type.Integer({ minimum: 100, default: DAY_MS }),
  /** An endpoint whose deliveries fail for this long is disabled and its owner told by mail. */
  NOTIFY_WEBHOOK_DISABLE_AFTER_MS: Type.Integer({ minimum: 100, default: DAY_MS }),
  /** How often the delivery worker looks for due deliveries when nothing woke it. */
  NOTIFY_WORKER_POLL_MS: Type.Integer({ minimum: 10, default: 1000 }),
  /** Deliveries one worker claims at once. */
  NOTIFY_WORKER_BATCH: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
  /** How long a claimed delivery stays with its worker before another may take it (a crashed replica's). */
  NOTIFY_CLAIM_LEASE_MS: Type.Integer({ minimum: 1000, default: 2 * 60 * 1000 }),
  /** How long notify waits for auth to name the recipients of a notification. */
  NOTIFY_RECIPIENTS_TIMEOUT_MS: Type.Integer({ minimum: 50, default: 3000 }),
  /** Mails of one kind to one user sent one by one within NOTIFY_DIGEST_WINDOW_MS; the next ones wait and go out together as one digest. */
  NOTIFY_DIGEST_AFTER: Type.Integer({ minimum: 1, default: 3 }),
  NOTIFY_DIGEST_WINDOW_MS: Type.Integer({ minimum: 100, default: 10 * 60 * 1000 }),
  /** How long sent and failed deliveries (the delivery log, the idempotency keys) are kept. More than the streams' 7 days. */
  NOTIFY_KEEP_DELIVERIES_MS: Type.Integer({ minimum: 8 * DAY_MS, default: 30 * DAY_MS }),
  /** How often every replica looks for mood reminders that are due. */
  NOTIFY_REMINDER_POLL_MS: Type.Integer({ minimum: 10, default: 30_000 }),
  /** How often the outbox relay looks for events to publish when nothing woke it. */
  OUTBOX_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, default: 1000 })
}

/** The entries of NOTIFY_WEBHOOKS_ALLOWED_CIDRS. */
export const cidrsOf = (value: string): string[] => value.split(',').map((c) => c.trim()).filter((c) => c !== '')

export type NotifyConfig = ReturnType<typeof loadNotifyConfig>

/** Reads and validates the environment once; throws a ConfigError naming every bad variable. */
export function loadNotifyConfig (env: Record<string, string | undefined> = process.env) {
  return loadConfig(NotifyConfigProperties, env, {
    secrets: ['IDENTITY_SECRET', 'NOTIFY_LINK_SECRET'],
    check: (config) => [
      ...(config.NODE_ENV === 'production' && config.NOTIFY_WEBHOOKS_ALLOW_PRIVATE ? ['NOTIFY_WEBHOOKS_ALLOW_PRIVATE must not be set in production: webhooks could reach internal addresses'] : []),
      ...cidrsOf(config.NOTIFY_WEBHOOKS_ALLOWED_CIDRS).flatMap((c) => { const p = cidrProblem(c); return p === undefined ? [] : [`NOTIFY_WEBHOOKS_ALLOWED_CIDRS: ${p}`] }),
      ...(config.NOTIFY_RETRY_BASE_MS > config.NOTIFY_RETRY_MAX_MS ? [`NOTIFY_RETRY_BASE_MS (${config.NOTIFY_RETRY_BASE_MS}) must not exceed NOTIFY_RETRY_MAX_MS (${config.NOTIFY_RETRY_MAX_MS})`] : [])
    ]
  })
}
