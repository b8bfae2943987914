import Type, { type Static, type TObject } from 'typebox'
import {
  BaseConfigProperties, DatabaseConfigProperties, NatsConfigProperties, UrlSetting, loadConfig
} from '@pulse/service-kit'

/** The provider simulator's development consumer (docs/api.md): fine locally, refused in production. */
export const SIMULATOR_CONSUMER = { key: 'pulsesimxconsumerkey0000', secret: 'pulsesimxconsumersecret000000000000000000000' } as const

/** X's user timeline reaches back over the newest 3,200 posts only (docs/providers.md §2.5). */
export const X_TIMELINE_HORIZON = 3200

export const TwitterIngestConfigProperties = {
  ...BaseConfigProperties,
  ...DatabaseConfigProperties,
  ...NatsConfigProperties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3005 }),
  /** The OAuth 1.0a consumer (the X app): every request is signed with it and the user's token. */
  TWITTER_API_KEY: Type.String({ minLength: 1, default: SIMULATOR_CONSUMER.key }),
  TWITTER_API_SECRET: Type.String({ minLength: 1, default: SIMULATOR_CONSUMER.secret }),
  /** X's API: `<url>/2/*`. */
  TWITTER_API_URL: UrlSetting('https://api.x.com', ['https', 'http']),
  /** Every tracked account is refreshed once per window of this many seconds. */
  TWITTER_REFRESH_INTERVAL_S: Type.Integer({ minimum: 60, default: 900 }),
  /** Off only where something else requests refreshes (tests drive the scheduler by hand). */
  TWITTER_SCHEDULER_ENABLED: Type.Boolean({ default: true }),
  TWITTER_SCHEDULER_TICK_S: Type.Integer({ minimum: 1, default: 30 }),
  TWITTER_SCHEDULER_PAGE_SIZE: Type.Integer({ minimum: 1, default: 500 }),
  /** POST /twitter/refresh: at most one per user per this many seconds. */
  TWITTER_MANUAL_REFRESH_MIN_INTERVAL_S: Type.Integer({ minimum: 1, default: 60 }),
  TWITTER_TOKEN_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 50, default: 5000 }),
  TWITTER_HTTP_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  TWITTER_HTTP_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
  TWITTER_HTTP_RETRY_BASE_MS: Type.Integer({ minimum: 0, default: 500 }),
  /** A spent rate-limit window that ends within this long is waited for in place; longer: redelivery. */
  TWITTER_RATE_LIMIT_INLINE_WAIT_MS: Type.Integer({ minimum: 0, default: 2000 }),
  /** X's windows are 15 minutes: a reset further off is a clock disagreement. */
  TWITTER_RATE_LIMIT_MAX_WAIT_S: Type.Integer({ minimum: 1, default: 900 }),
  TWITTER_REDELIVERY_BASE_MS: Type.Integer({ minimum: 10, default: 5000 }),
  TWITTER_REDELIVERY_MAX_MS: Type.Integer({ minimum: 10, default: 300_000 }),
  TWITTER_REFRESH_GIVE_UP_S: Type.Integer({ minimum: 1, default: 3600 }),
  TWITTER_REFRESH_ACK_WAIT_S: Type.Integer({ minimum: 5, default: 120 }),
  /** Refreshes one replica runs at once (they mostly wait for the provider). */
  TWITTER_REFRESH_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
  /** Recent posts fetched per refresh (and kept for GET /twitter/posts and the engagement rate). */
  TWITTER_MAX_POSTS: Type.Integer({ minimum: 5, maximum: X_TIMELINE_HORIZON, default: 500 }),
  /** `max_results` of a timeline page (X allows 5 to 100). */
  TWITTER_PAGE_SIZE: Type.Integer({ minimum: 5, maximum: 100, default: 100 }),
  TWITTER_LIST_PAGE_SIZE_DEFAULT: Type.Integer({ minimum: 1, default: 20 }),
  TWITTER_LIST_PAGE_SIZE_MAX: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  TWITTER_HISTORY_DEFAULT_DAYS: Type.Integer({ minimum: 1, default: 30 }),
  TWITTER_HISTORY_MAX_DAYS: Type.Integer({ minimum: 1, default: 400 }),
  TWITTER_HISTORY_MAX_POINTS: Type.Integer({ minimum: 2, default: 1000 }),
  TWITTER_BOOKKEEPING_RETENTION_DAYS: Type.Integer({ minimum: 7, default: 8 }),
  OUTBOX_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, default: 1000 })
}

export type TwitterIngestConfig = ReturnType<typeof loadTwitterIngestConfig>

/** Reads and validates the environment once; throws a ConfigError naming every bad variable. */
export function loadTwitterIngestConfig (env: Record<string, string | undefined> = process.env) {
  return loadConfig(TwitterIngestConfigProperties, env, { secrets: ['IDENTITY_SECRET'], check: checkTwitterIngest })
}

function checkTwitterIngest (config: Static<TObject<typeof TwitterIngestConfigProperties>>): string[] {
  const problems: string[] = []
  if (config.TWITTER_LIST_PAGE_SIZE_DEFAULT > config.TWITTER_LIST_PAGE_SIZE_MAX) {
    problems.push(`TWITTER_LIST_PAGE_SIZE_DEFAULT (${config.TWITTER_LIST_PAGE_SIZE_DEFAULT}) must not exceed TWITTER_LIST_PAGE_SIZE_MAX (${config.TWITTER_LIST_PAGE_SIZE_MAX})`)
  }
  if (config.TWITTER_HISTORY_DEFAULT_DAYS > config.TWITTER_HISTORY_MAX_DAYS) {
    problems.push(`TWITTER_HISTORY_DEFAULT_DAYS (${config.TWITTER_HISTORY_DEFAULT_DAYS}) must not exceed TWITTER_HISTORY_MAX_DAYS (${config.TWITTER_HISTORY_MAX_DAYS})`)
  }
  if (config.NODE_ENV === 'production') {
    if (config.TWITTER_API_KEY === SIMULATOR_CONSUMER.key) problems.push('TWITTER_API_KEY still has the simulator\'s value; set the X app\'s consumer key in production')
    if (config.TWITTER_API_SECRET === SIMULATOR_CONSUMER.secret) problems.push('TWITTER_API_SECRET still has the simulator\'s value; set the X app\'s consumer secret in production')
  }
  return problems
}
