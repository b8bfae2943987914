import { BaseConfigProperties, ConfigError, DatabaseConfigProperties, NatsConfigProperties, loadConfig } from '@pulse/service-kit'
import Type from 'typebox'

export const MoodConfigProperties = {
  ...BaseConfigProperties,
  ...DatabaseConfigProperties,
  ...NatsConfigProperties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3002 }),
  /** Entries per page of GET /mood when the caller sends no limit. */
  MOOD_PAGE_SIZE_DEFAULT: Type.Integer({ minimum: 1, default: 20 }),
  /** The largest limit GET /mood accepts. */
  MOOD_PAGE_SIZE_MAX: Type.Integer({ minimum: 1, default: 100 }),
  /** The longest period GET /mood/stats accepts, in days. */
  MOOD_STATS_MAX_DAYS: Type.Integer({ minimum: 1, default: 366 }),
  /** How far in the future a loggedAt may be (clocks of phones and servers differ a little). */
  MOOD_FUTURE_SKEW_SECONDS: Type.Integer({ minimum: 0, default: 300 })
}

export type MoodConfig = ReturnType<typeof loadMoodConfig>

export function loadMoodConfig (env: Record<string, string | undefined> = process.env) {
  const config = loadConfig(MoodConfigProperties, env, { secrets: ['IDENTITY_SECRET'] })
  if (config.MOOD_PAGE_SIZE_DEFAULT > config.MOOD_PAGE_SIZE_MAX) {
    throw new ConfigError([`MOOD_PAGE_SIZE_DEFAULT (${config.MOOD_PAGE_SIZE_DEFAULT}) must not exceed MOOD_PAGE_SIZE_MAX (${config.MOOD_PAGE_SIZE_MAX})`])
  }
  return config
}
