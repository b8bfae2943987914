import Type, { type Static, type TObject } from 'typebox'
import {
  BaseConfigProperties, DatabaseConfigProperties, NatsConfigProperties, UrlSetting, loadConfig
} from '@pulse/service-kit'

/** The provider simulator's development app (docs/api.md): fine locally, refused in production. */
export const SIMULATOR_CLIENT = { id: 'pulsesimtwitchclientid00000000', secret: 'pulsesimtwitchclientsecret0000' } as const

export const TwitchIngestConfigProperties = {
  ...BaseConfigProperties,
  ...DatabaseConfigProperties,
  ...NatsConfigProperties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3004 }),
  TWITCH_CLIENT_ID: Type.String({ minLength: 1, default: SIMULATOR_CLIENT.id }),
  TWITCH_CLIENT_SECRET: Type.String({ minLength: 1, default: SIMULATOR_CLIENT.secret, 'x-secret-min-length': 30 }),
  /** Twitch's identity service (app access tokens for the public top lists). */
  TWITCH_AUTH_URL: UrlSetting('https://id.twitch.tv/oauth2', ['https', 'http']),
  TWITCH_API_URL: UrlSetting('https://api.twitch.tv/helix', ['https', 'http']),
  /** Every tracked account is refreshed once per window of this many seconds. */
  TWITCH_REFRESH_INTERVAL_S: Type.Integer({ minimum: 60, default: 900 }),
  /** Off only where something else requests refreshes (tests drive the scheduler by hand). */
  TWITCH_SCHEDULER_ENABLED: Type.Boolean({ default: true }),
  /** How often each replica checks whether a new refresh window began. */
  TWITCH_SCHEDULER_TICK_S: Type.Integer({ minimum: 1, default: 30 }),
  TWITCH_SCHEDULER_PAGE_SIZE: Type.Integer({ minimum: 1, default: 500 }),
  /** POST /twitch/refresh: at most one per user per this many seconds. */
  TWITCH_MANUAL_REFRESH_MIN_INTERVAL_S: Type.Integer({ minimum: 1, default: 60 }),
  /** How long a refresh waits for auth to hand out a token. */
  TWITCH_TOKEN_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 50, default: 5000 }),
  /** One Helix call's time limit. */
  TWITCH_HTTP_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  /** Tries of one Helix call that answers 5xx or fails on the network, within one delivery. */
  TWITCH_HTTP_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
  /** The first pause between those tries; it doubles each time. */
  TWITCH_HTTP_RETRY_BASE_MS: Type.Integer({ minimum: 0, default: 500 }),
  /** A spent rate-limit budget that refills within this long is waited for in place; longer: redelivery. */
  TWITCH_RATE_LIMIT_INLINE_WAIT_MS: Type.Integer({ minimum: 0, default: 2000 }),
  /** The Helix bucket refills within a minute: a reset further off is a clock disagreement. */
  TWITCH_RATE_LIMIT_MAX_WAIT_S: Type.Integer({ minimum: 1, default: 60 }),
  /** Redelivery after Twitch or auth was unavailable: base × 2^(delivery − 1), at most max. */
  TWITCH_REDELIVERY_BASE_MS: Type.Integer({ minimum: 10, default: 5000 }),
  TWITCH_REDELIVERY_MAX_MS: Type.Integer({ minimum: 10, default: 300_000 }),
  /** A request still failing for a transient reason this long after it was made fails for good. */
  TWITCH_REFRESH_GIVE_UP_S: Type.Integer({ minimum: 1, default: 3600 }),
  /** How long one refresh may take before JetStream gives its message to another replica. */
  TWITCH_REFRESH_ACK_WAIT_S: Type.Integer({ minimum: 5, default: 120 }),
  /** Refreshes one replica runs at once (they mostly wait for the provider). */
  TWITCH_REFRESH_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
  /** Helix `first` for the lists fetched in full (subscriptions, videos, live follows). */
  TWITCH_PAGE_SIZE: Type.Integer({ minimum: 1, maximum: 100, default: 100 }),
  /** A list stops after this many Helix pages (a runaway cursor never loops forever). */
  TWITCH_MAX_PAGES: Type.Integer({ minimum: 1, default: 500 }),
  /** Rows kept per list (videos, subscribers, live follows); counts cover every item fetched. */
  TWITCH_LIST_MAX_ITEMS: Type.Integer({ minimum: 1, default: 1000 }),
  TWITCH_BITS_LEADERBOARD_SIZE: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  /** The public top lists are fetched at most once per this many seconds per replica. */
  TWITCH_TOP_CACHE_S: Type.Integer({ minimum: 1, default: 60 }),
  TWITCH_TOP_SIZE: Type.Integer({ minimum: 1, maximum: 100, default: 100 }),
  TWITCH_LIST_PAGE_SIZE_DEFAULT: Type.Integer({ minimum: 1, default: 20 }),
  TWITCH_LIST_PAGE_SIZE_MAX: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  TWITCH_HISTORY_DEFAULT_DAYS: Type.Integer({ minimum: 1, default: 30 }),
  TWITCH_HISTORY_MAX_DAYS: Type.Integer({ minimum: 1, default: 400 }),
  /** A history longer than this many points is thinned to the last snapshot of equal buckets. */
  TWITCH_HISTORY_MAX_POINTS: Type.Integer({ minimum: 2, default: 1000 }),
  /** Processed-request ids and unlink markers are kept this long (the streams keep messages 7 days). */
  TWITCH_BOOKKEEPING_RETENTION_DAYS: Type.Integer({ minimum: 7, default: 8 }),
  OUTBOX_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, default: 1000 })
}

export type TwitchIngestConfig = ReturnType<typeof loadTwitchIngestConfig>

/** Reads and validates the environment once; throws a ConfigError naming every bad variable. */
export function loadTwitchIngestConfig (env: Record<string, string | undefined> = process.env) {
  return loadConfig(TwitchIngestConfigProperties, env, { secrets: ['IDENTITY_SECRET'], check: checkTwitchIngest })
}

function checkTwitchIngest (config: Static<TObject<typeof TwitchIngestConfigProperties>>): string[] {
  const problems: string[] = []
  if (config.TWITCH_LIST_PAGE_SIZE_DEFAULT > config.TWITCH_LIST_PAGE_SIZE_MAX) {
    problems.push(`TWITCH_LIST_PAGE_SIZE_DEFAULT (${config.TWITCH_LIST_PAGE_SIZE_DEFAULT}) must not exceed TWITCH_LIST_PAGE_SIZE_MAX (${config.TWITCH_LIST_PAGE_SIZE_MAX})`)
  }
  if (config.TWITCH_HISTORY_DEFAULT_DAYS > config.TWITCH_HISTORY_MAX_DAYS) {
    problems.push(`TWITCH_HISTORY_DEFAULT_DAYS (${config.TWITCH_HISTORY_DEFAULT_DAYS}) must not exceed TWITCH_HISTORY_MAX_DAYS (${config.TWITCH_HISTORY_MAX_DAYS})`)
  }
  if (config.NODE_ENV === 'production') {
    if (config.TWITCH_CLIENT_ID === SIMULATOR_CLIENT.id) problems.push('TWITCH_CLIENT_ID still has the simulator\'s value; set the Twitch app\'s client id in production')
    if (config.TWITCH_CLIENT_SECRET === SIMULATOR_CLIENT.secret) problems.push('TWITCH_CLIENT_SECRET still has the simulator\'s value; set the Twitch app\'s secret in production')
  }
  return problems
}
