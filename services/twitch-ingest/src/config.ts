import { SIMULATOR_CREDENTIALS } from '@pulse/contracts'
import Type, { type Static, type TObject } from 'typebox'
import { checkIngestConfig, ingestConfigProperties } from '@pulse/ingest-kit'
import { RedisConfigProperties, UrlSetting, loadConfig } from '@pulse/service-kit'

/** The provider simulator's development app (docs/api.md): fine locally, refused in production. */
export const SIMULATOR_CLIENT = { id: SIMULATOR_CREDENTIALS.twitch.clientId, secret: SIMULATOR_CREDENTIALS.twitch.clientSecret } as const

export const TwitchIngestConfigProperties = {
  ...ingestConfigProperties('TWITCH', { port: 3004, rateLimitWindowS: 60 }),
  /** Redis caches the look-ups (GET /twitch/lookup/...) for every replica; while it is down they ask Twitch. */
  ...RedisConfigProperties,
  TWITCH_CLIENT_ID: Type.String({ minLength: 1, default: SIMULATOR_CLIENT.id }),
  TWITCH_CLIENT_SECRET: Type.String({ minLength: 1, default: SIMULATOR_CLIENT.secret, 'x-secret-min-length': 30 }),
  /** Twitch's identity service (app access tokens for the public top lists). */
  TWITCH_AUTH_URL: UrlSetting('https://id.twitch.tv/oauth2', ['https', 'http']),
  TWITCH_API_URL: UrlSetting('https://api.twitch.tv/helix', ['https', 'http']),
  /** Helix `first` for the lists fetched in full (subscriptions, videos, live follows). */
  TWITCH_PAGE_SIZE: Type.Integer({ minimum: 1, maximum: 100, default: 100 }),
  /** A list stops after this many Helix pages (a runaway cursor never loops forever). */
  TWITCH_MAX_PAGES: Type.Integer({ minimum: 1, default: 500 }),
  /** Rows kept per list (videos, subscribers, live follows); counts cover every item fetched. */
  TWITCH_LIST_MAX_ITEMS: Type.Integer({ minimum: 1, default: 1000 }),
  /** The most recent followers kept per channel (needs moderator:read:followers). */
  TWITCH_RECENT_FOLLOWERS: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  TWITCH_BITS_LEADERBOARD_SIZE: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  /** The public top lists are fetched at most once per this many seconds per replica. */
  TWITCH_TOP_CACHE_S: Type.Integer({ minimum: 1, default: 60 }),
  /** A look-up's answer is reused for this many seconds before Twitch is asked again. */
  TWITCH_LOOKUP_CACHE_S: Type.Integer({ minimum: 1, maximum: 86_400, default: 300 }),
  /** An older answer is kept this many seconds more, for when Twitch cannot be asked (down, budget spent). */
  TWITCH_LOOKUP_STALE_S: Type.Integer({ minimum: 0, maximum: 604_800, default: 3600 }),
  TWITCH_TOP_SIZE: Type.Integer({ minimum: 1, maximum: 100, default: 100 }),
  /**
   * EventSub over webhooks (docs/providers.md §1.5): subscriptions for every connected channel, the
   * public callback POST /webhooks/twitch. Off unless turned on: Twitch must be able to reach the
   * callback URL.
   */
  TWITCH_EVENTSUB_ENABLED: Type.Boolean({ default: false }),
  /** The callback Twitch posts to: the gateway's public URL + /webhooks/twitch (https on 443 for the real Twitch). */
  TWITCH_EVENTSUB_CALLBACK_URL: UrlSetting('http://127.0.0.1:3000/webhooks/twitch', ['https', 'http']),
  /** The HMAC key of the subscriptions (10–100 ASCII characters, one per deployment); required when enabled. */
  TWITCH_EVENTSUB_SECRET: Type.Optional(Type.String({ minLength: 10, maxLength: 100, pattern: '^[\\x20-\\x7e]+$', 'x-secret': true })),
  /** A message whose timestamp is older than this is refused (Twitch's advice: ten minutes). */
  TWITCH_EVENTSUB_MAX_AGE_S: Type.Integer({ minimum: 60, maximum: 3600, default: 600 }),
  /** How often a replica checks Twitch's list of subscriptions against the connected channels. */
  TWITCH_EVENTSUB_RECONCILE_S: Type.Integer({ minimum: 10, default: 3600 }),
  /** How often the viewers of a live channel are sampled for its stream session. */
  TWITCH_STREAM_SAMPLE_S: Type.Integer({ minimum: 1, maximum: 3600, default: 60 })
}

export type TwitchIngestConfig = ReturnType<typeof loadTwitchIngestConfig>

/** Reads and validates the environment once; throws a ConfigError naming every bad variable. */
export function loadTwitchIngestConfig (env: Record<string, string | undefined> = process.env) {
  return loadConfig(TwitchIngestConfigProperties, env, { secrets: ['IDENTITY_SECRET'], check: checkTwitchIngest })
}

function checkTwitchIngest (config: Static<TObject<typeof TwitchIngestConfigProperties>>): string[] {
  const problems = checkIngestConfig('TWITCH', config, {
    TWITCH_CLIENT_ID: [SIMULATOR_CLIENT.id, 'the Twitch app\'s client id'],
    TWITCH_CLIENT_SECRET: [SIMULATOR_CLIENT.secret, 'the Twitch app\'s secret']
  })
  if (config.TWITCH_EVENTSUB_ENABLED && config.TWITCH_EVENTSUB_SECRET === undefined) problems.push('TWITCH_EVENTSUB_SECRET is required when TWITCH_EVENTSUB_ENABLED is true')
  return problems
}
