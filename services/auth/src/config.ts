import { SIMULATOR_CREDENTIALS } from '@pulse/contracts'
import { MailConfigProperties } from '@pulse/mail'
import Type from 'typebox'
import {
  BaseConfigProperties, DEVELOPMENT_SECRETS, DatabaseConfigProperties, NatsConfigProperties, RedisConfigProperties,
  SessionConfigProperties, UrlSetting, loadConfig
} from '@pulse/service-kit'
import { parseKeyring } from './tokens/token-cipher.js'

/**
 * The provider simulator's fixed development credentials (docs/api.md, "The provider simulator"): the
 * defaults, so a fresh clone signs in with Twitch and X against the local simulator. Production
 * refuses them: they are among the kit's DEVELOPMENT_VALUES.
 */
const SIMULATOR = {
  twitchClientId: SIMULATOR_CREDENTIALS.twitch.clientId,
  twitchClientSecret: SIMULATOR_CREDENTIALS.twitch.clientSecret,
  twitterApiKey: SIMULATOR_CREDENTIALS.twitter.consumerKey,
  twitterApiSecret: SIMULATOR_CREDENTIALS.twitter.consumerSecret
} as const

/**
 * What the dashboard reads from Helix with a user's token (docs/providers.md §1.3): the followers list
 * and its real total (`moderator:read:followers`, the token's user being the broadcaster), the
 * broadcaster's subscriptions (`channel:read:subscriptions`), followed channels and followed live
 * streams (`user:read:follows`) and the bits leaderboard (`bits:read`). Nothing more: no e-mail.
 */
export const DEFAULT_TWITCH_SCOPES = 'moderator:read:followers channel:read:subscriptions user:read:follows bits:read'

/** E-mail, password reset, two-factor and the mails auth sends (docs/api.md, "Account security"). */
const AccountSecurityConfigProperties = {
  ...MailConfigProperties,
  /** How long a password-reset link works. */
  PASSWORD_RESET_TTL_S: Type.Integer({ minimum: 60, maximum: 24 * 3600, default: 30 * 60 }),
  /** Reset requests per client address, and per username or address asked for, within PASSWORD_RESET_WINDOW_S, then 429. */
  PASSWORD_RESET_MAX_PER_ADDRESS: Type.Integer({ minimum: 1, default: 10 }),
  PASSWORD_RESET_MAX_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 3 }),
  PASSWORD_RESET_WINDOW_S: Type.Integer({ minimum: 1, default: 3600 }),
  /** How long the link that verifies an e-mail address works. */
  EMAIL_VERIFICATION_TTL_S: Type.Integer({ minimum: 60, default: 24 * 3600 }),
  /** Wrong two-factor codes per account (all addresses) within LOGIN_FAILURE_WINDOW_S, then 429; per (account, address) LOGIN_MAX_FAILURES_PER_ACCOUNT applies too. */
  TWO_FACTOR_MAX_FAILURES_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 10 }),
  /** How long the second step of a login may wait for its code. */
  TWO_FACTOR_CHALLENGE_TTL_S: Type.Integer({ minimum: 30, maximum: 3600, default: 300 }),
  /** The name authenticator apps show beside the account. */
  TWO_FACTOR_ISSUER: Type.String({ minLength: 1, maxLength: 64, default: 'Pulse' }),
  /** A mail the SMTP server did not take is tried again after this delay, doubling up to MAIL_RETRY_MAX_MS. */
  MAIL_RETRY_BASE_MS: Type.Integer({ minimum: 10, default: 1000 }),
  MAIL_RETRY_MAX_MS: Type.Integer({ minimum: 10, default: 5 * 60 * 1000 }),
  /** Attempts at one mail before it goes to the dead-letter stream (at the maximum delay: days). */
  MAIL_MAX_DELIVER: Type.Integer({ minimum: 1, default: 1000 })
}

export const AuthConfigProperties = {
  ...BaseConfigProperties,
  ...DatabaseConfigProperties,
  ...RedisConfigProperties,
  ...NatsConfigProperties,
  ...SessionConfigProperties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  FRONTEND_URL: Type.String({ default: 'http://127.0.0.1:3000', 'x-url-protocols': ['http', 'https'] }),
  /** argon2id cost: OWASP's minimum (m=19 MiB, t=2, p=1) is the floor; raise it freely, old hashes are upgraded at login. */
  ARGON2_MEMORY_KIB: Type.Integer({ minimum: 19_456, default: 19_456 }),
  ARGON2_ITERATIONS: Type.Integer({ minimum: 2, default: 2 }),
  ARGON2_PARALLELISM: Type.Integer({ minimum: 1, default: 1 }),
  /** Failed logins allowed per account from one address within the window, then 429 for that pair. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 5 }),
  /** Failed logins allowed from one address (all accounts) within the window. */
  LOGIN_MAX_FAILURES_PER_ADDRESS: Type.Integer({ minimum: 1, default: 50 }),
  LOGIN_FAILURE_WINDOW_S: Type.Integer({ minimum: 1, default: 15 * 60 }),
  /** Registrations (one argon2 hash each) allowed from one address within REGISTER_WINDOW_S, then 429. */
  REGISTER_MAX_PER_ADDRESS: Type.Integer({ minimum: 1, default: 20 }),
  REGISTER_WINDOW_S: Type.Integer({ minimum: 1, default: 3600 }),
  /** Starts of "Sign in with X" (each one asks X for a request token) allowed from one address within TWITTER_LOGIN_WINDOW_S, then 429. */
  TWITTER_LOGIN_MAX_PER_ADDRESS: Type.Integer({ minimum: 1, default: 30 }),
  TWITTER_LOGIN_WINDOW_S: Type.Integer({ minimum: 1, default: 15 * 60 }),
  /**
   * Deleting an account without a password (signed up with Twitch or X) needs a session started by a
   * provider sign-in at most this many seconds ago: the fresh sign-in stands in for the password.
   */
  ACCOUNT_DELETE_REAUTH_S: Type.Integer({ minimum: 30, default: 300 }),
  /** How long a prepared data export can be downloaded before it is deleted (7 days). */
  EXPORT_TTL_S: Type.Integer({ minimum: 1, default: 7 * 24 * 3600 }),
  /** How long auth waits for one page of a service's data while preparing an export; a service that does not answer delays the export. */
  EXPORT_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5000 }),
  /** How long an export waits before asking a service that did not answer again. */
  EXPORT_RETRY_MS: Type.Integer({ minimum: 100, default: 15_000 }),

  /** Twitch app credentials; the defaults are the simulator's. */
  TWITCH_CLIENT_ID: Type.String({ minLength: 1, default: SIMULATOR.twitchClientId }),
  TWITCH_CLIENT_SECRET: Type.String({ minLength: 1, default: SIMULATOR.twitchClientSecret, 'x-secret-min-length': 30 }),
  /** Twitch's identity service (authorize, token, validate, revoke live under it). */
  TWITCH_AUTH_URL: UrlSetting('https://id.twitch.tv/oauth2', ['http', 'https']),
  TWITCH_API_URL: UrlSetting('https://api.twitch.tv/helix', ['http', 'https']),
  /**
   * TWITCH_AUTH_URL as the user's browser reaches it, for the consent page; TWITCH_AUTH_URL when
   * unset. Only differs where auth and browsers reach the provider at different addresses (the
   * simulator inside Docker Compose: `http://provider-sim:3100` for auth, `http://127.0.0.1:3100`
   * for the browser).
   */
  TWITCH_BROWSER_AUTH_URL: Type.Optional(Type.String({ 'x-url-protocols': ['http', 'https'] })),
  /** Space-separated scopes asked for at Twitch's consent screen. */
  TWITCH_SCOPES: Type.String({ minLength: 1, default: DEFAULT_TWITCH_SCOPES }),
  /** Twitch requires every stored token to be validated at start-up and hourly (docs/providers.md §1.1). */
  TWITCH_VALIDATE_INTERVAL_S: Type.Integer({ minimum: 1, default: 3600 }),
  /** Tokens validated at once during a validation round. */
  TWITCH_VALIDATE_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
  /** An access token that expires within this many seconds is refreshed before it is handed out. */
  TOKEN_REFRESH_MARGIN_S: Type.Integer({ minimum: 0, default: 60 }),

  /** X OAuth 1.0a consumer (API key and secret); the defaults are the simulator's. */
  TWITTER_API_KEY: Type.String({ minLength: 1, default: SIMULATOR.twitterApiKey }),
  TWITTER_API_SECRET: Type.String({ minLength: 1, default: SIMULATOR.twitterApiSecret }),
  /** X's base URL: `/oauth/*`, `/1.1/*` and `/2/*` live under it. */
  TWITTER_API_URL: UrlSetting('https://api.x.com', ['http', 'https']),
  /** TWITTER_API_URL as the user's browser reaches it, for the authenticate page (see TWITCH_BROWSER_AUTH_URL). */
  TWITTER_BROWSER_URL: Type.Optional(Type.String({ 'x-url-protocols': ['http', 'https'] })),

  /**
   * Keys that encrypt provider tokens at rest: `kid:base64(32 bytes)[,kid2:…]`. The first one
   * encrypts; every one listed decrypts (keep an old key listed until `rotate-token-keys` ran).
   */
  TOKEN_ENCRYPTION_KEYS: Type.String({ minLength: 1, default: DEVELOPMENT_SECRETS.TOKEN_ENCRYPTION_KEYS }),
  /** How long a browser has to come back from the provider's consent screen. */
  OAUTH_ATTEMPT_TTL_S: Type.Integer({ minimum: 30, maximum: 3600, default: 600 }),
  /** How long a call to Twitch or X may take. */
  PROVIDER_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  /** How often the outbox relay looks for events to publish when nothing woke it. */
  OUTBOX_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, default: 1000 }),
  ...AccountSecurityConfigProperties
}

export type AuthConfig = ReturnType<typeof loadAuthConfig>

export function loadAuthConfig (env: Record<string, string | undefined> = process.env) {
  // The kit refuses, in production, every secret setting that is a development value (the
  // simulator's credentials, the development token key, wherever it is listed) or too short.
  return loadConfig(AuthConfigProperties, env, {
    secrets: ['IDENTITY_SECRET', 'SESSION_SECRET', 'TOKEN_ENCRYPTION_KEYS'],
    check: (config) => {
      try {
        parseKeyring(config.TOKEN_ENCRYPTION_KEYS)
        return []
      } catch (error) {
        return [`TOKEN_ENCRYPTION_KEYS ${(error as Error).message}`]
      }
    }
  })
}
