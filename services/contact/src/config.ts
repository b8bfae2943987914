import Type from 'typebox'
import {
  BaseConfigProperties, ConfigError, DatabaseConfigProperties, NatsConfigProperties, RedisConfigProperties, loadConfig
} from '@pulse/service-kit'

export const ContactConfigProperties = {
  ...BaseConfigProperties,
  ...DatabaseConfigProperties,
  ...NatsConfigProperties,
  ...RedisConfigProperties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3003 }),
  /** Messages one client address may send per window (POST /contact). */
  CONTACT_RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 5 }),
  /** The rate-limit window: a fixed window that starts with an address's first message. */
  CONTACT_RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1000, default: 10 * 60 * 1000 }),
  /** How long a message waits for Redis before it is accepted without a rate-limit check. */
  CONTACT_RATE_LIMIT_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 250 }),
  CONTACT_PAGE_SIZE_DEFAULT: Type.Integer({ minimum: 1, default: 20 }),
  CONTACT_PAGE_SIZE_MAX: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  /** How often the outbox relay looks for events to publish when nothing woke it. */
  OUTBOX_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, default: 1000 })
}

export type ContactConfig = ReturnType<typeof loadContactConfig>

/** Reads and validates the environment once; throws a ConfigError naming every bad variable. */
export function loadContactConfig (env: Record<string, string | undefined> = process.env) {
  const config = loadConfig(ContactConfigProperties, env, { secrets: ['IDENTITY_SECRET'] })
  if (config.CONTACT_PAGE_SIZE_DEFAULT > config.CONTACT_PAGE_SIZE_MAX) {
    throw new ConfigError([`CONTACT_PAGE_SIZE_DEFAULT (${config.CONTACT_PAGE_SIZE_DEFAULT}) must not exceed CONTACT_PAGE_SIZE_MAX (${config.CONTACT_PAGE_SIZE_MAX})`])
  }
  return config
}
