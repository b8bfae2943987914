import { SIMULATOR_CREDENTIALS } from '@pulse/contracts'
import Type, { type Static, type TObject } from 'typebox'
import { checkIngestConfig, ingestConfigProperties } from '@pulse/ingest-kit'
import { UrlSetting, loadConfig } from '@pulse/service-kit'

/** The provider simulator's development consumer (docs/api.md): fine locally, refused in production. */
export const SIMULATOR_CONSUMER = { key: SIMULATOR_CREDENTIALS.twitter.consumerKey, secret: SIMULATOR_CREDENTIALS.twitter.consumerSecret } as const

/** X's user timeline reaches back over the newest 3,200 posts only (docs/providers.md §2.5). */
export const X_TIMELINE_HORIZON = 3200

export const TwitterIngestConfigProperties = {
  ...ingestConfigProperties('TWITTER', { port: 3005, rateLimitWindowS: 900 }),
  /** The OAuth 1.0a consumer (the X app): every request is signed with it and the user's token. */
  TWITTER_API_KEY: Type.String({ minLength: 1, default: SIMULATOR_CONSUMER.key }),
  TWITTER_API_SECRET: Type.String({ minLength: 1, default: SIMULATOR_CONSUMER.secret }),
  /** X's API: `<url>/2/*`. */
  TWITTER_API_URL: UrlSetting('https://api.x.com', ['https', 'http']),
  /** Recent posts fetched per refresh (and kept for GET /twitter/posts and the engagement rate). */
  TWITTER_MAX_POSTS: Type.Integer({ minimum: 5, maximum: X_TIMELINE_HORIZON, default: 500 }),
  /** `max_results` of a timeline page (X allows 5 to 100). */
  TWITTER_PAGE_SIZE: Type.Integer({ minimum: 5, maximum: 100, default: 100 })
}

export type TwitterIngestConfig = ReturnType<typeof loadTwitterIngestConfig>

/** Reads and validates the environment once; throws a ConfigError naming every bad variable. */
export function loadTwitterIngestConfig (env: Record<string, string | undefined> = process.env) {
  return loadConfig(TwitterIngestConfigProperties, env, { secrets: ['IDENTITY_SECRET'], check: checkTwitterIngest })
}

function checkTwitterIngest (config: Static<TObject<typeof TwitterIngestConfigProperties>>): string[] {
  return checkIngestConfig('TWITTER', config, {
    TWITTER_API_KEY: [SIMULATOR_CONSUMER.key, 'the X app\'s consumer key'],
    TWITTER_API_SECRET: [SIMULATOR_CONSUMER.secret, 'the X app\'s consumer secret']
  })
}
