import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { AUTH_STREAM } from '@pulse/contracts'
import { Mailer } from '@pulse/mail'
import { databaseOptionsOf, databasePlugin, natsPlugin, outboxPlugin, redisConnectionOf, redisPlugin, serviceOptionsOf, servicePlugin, sessionCookieName } from '@pulse/service-kit'
import type { FastifyInstance } from 'fastify'
import type { AuthConfig } from './config.js'
import { AUTH_SCHEMA } from './db/database.js'
import { AccountSessions } from './account-sessions.js'
import { sendQueuedMails } from './events/mail-sender.js'
import { consumeTwitchRevocations } from './events/twitch-revocations.js'
import { serveTokenRequests } from './events/token-responder.js'
import { serveRecipients } from './events/recipients-responder.js'
import { prepareExports } from './events/exports.js'
import { consumeUserDeletions } from './events/user-deleted.js'
import { AddressLimit, LoginThrottle } from './login-throttle.js'
import { OAuthAttempts } from './oauth/attempts.js'
import { connectionFlow } from './oauth/flow.js'
import { Passwords } from './passwords.js'
import { TwitchClient } from './providers/twitch.js'
import { TwitterClient } from './providers/twitter.js'
import accountDataRoutes from './routes/account-data.js'
import accountRoutes from './routes/accounts.js'
import connectionRoutes, { type Revoker } from './routes/connections.js'
import emailRoutes from './routes/email.js'
import passwordRoutes from './routes/password.js'
import sessionRoutes from './routes/sessions.js'
import twoFactorRoutes from './routes/two-factor.js'
import twitchRoutes from './routes/twitch.js'
import twitterRoutes from './routes/twitter.js'
import { RedisSessionStore } from './session-store.js'
import { TokenCipher } from './tokens/token-cipher.js'
import { TokenService } from './tokens/token-service.js'
import { TokenStore } from './tokens/token-store.js'
import { TwitchValidator } from './tokens/twitch-validation.js'
import { Totp } from './two-factor/totp.js'
import { TwoFactorCodes } from './two-factor/two-factor.js'

export interface AuthAppOptions {
  config: AuthConfig
  /** The clock token expiries are computed with; tests align it with the provider simulator's. */
  now?: () => number
}

declare module 'fastify' {
  interface Session {
    userId?: string
    role?: 'user' | 'admin'
    timezone?: string
    createdAt?: number
  }
  interface FastifyInstance {
    /** Hands out usable provider tokens (the token request-reply calls it). */
    tokens: TokenService
    /** The start-up and hourly validation of Twitch tokens. */
    twitchValidator: TwitchValidator
  }
}

export default async function authApp (app: FastifyInstance, { config, now = Date.now }: AuthAppOptions) {
  await app.register(servicePlugin, serviceOptionsOf(config, { prefix: 'AUTH', audience: 'auth', openapi: { title: 'Pulse accounts' } }))
  await app.register(databasePlugin, databaseOptionsOf(config, AUTH_SCHEMA))
  await app.register(redisPlugin, { ...redisConnectionOf(config), keyPrefix: config.REDIS_PREFIX, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS })
  await app.register(natsPlugin, { url: config.NATS_URL, name: 'auth', prefix: config.NATS_PREFIX, streams: [AUTH_STREAM], streamReplicas: config.NATS_STREAM_REPLICAS })
  await app.register(outboxPlugin, { service: 'auth', pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS })

  const sessions = new RedisSessionStore(app.redis, config.REDIS_PREFIX, config.SESSION_IDLE_TIMEOUT_S)
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    cookieName: sessionCookieName(config.PUBLIC_URL),
    secret: [config.SESSION_SECRET, config.SESSION_SECRET_PREVIOUS].filter((s): s is string => s !== undefined),
    store: sessions,
    // docs/pitfalls.md, "Sessions and cookies": the defaults store a session for every anonymous request and rewrite it on every one.
    saveUninitialized: false,
    rolling: false,
    cookie: {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: new URL(config.PUBLIC_URL).protocol === 'https:',
      maxAge: config.SESSION_ABSOLUTE_TIMEOUT_S * 1000
    }
  })

  const passwords = new Passwords({ memoryCost: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_ITERATIONS, parallelism: config.ARGON2_PARALLELISM })
  const throttle = new LoginThrottle(app.redis, {
    maxPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT, maxPerAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS, windowSeconds: config.LOGIN_FAILURE_WINDOW_S
  })
  const registrations = new AddressLimit(app.redis, { name: 'registrations', max: config.REGISTER_MAX_PER_ADDRESS, windowSeconds: config.REGISTER_WINDOW_S })
  // Provider tokens and TOTP seeds are encrypted at rest with the same keys.
  const cipher = TokenCipher.fromSetting(config.TOKEN_ENCRYPTION_KEYS)
  const totp = new Totp(cipher, config.TWO_FACTOR_ISSUER, now)
  const twoFactor = new TwoFactorCodes(app.db, app.redis, totp, {
    maxPerAccountAndAddress: config.LOGIN_MAX_FAILURES_PER_ACCOUNT, maxPerAccount: config.TWO_FACTOR_MAX_FAILURES_PER_ACCOUNT, windowSeconds: config.LOGIN_FAILURE_WINDOW_S, challengeTtlSeconds: config.TWO_FACTOR_CHALLENGE_TTL_S
  })
  await app.register(accountRoutes, { config, passwords, throttle, registrations, sessions, twoFactor })
  await registerAccountSecurity(app, { config, passwords, throttle, sessions, totp, twoFactor })

  // Provider connections: auth is the only holder of provider tokens.
  const store = new TokenStore(cipher)
  const twitch = new TwitchClient({
    clientId: config.TWITCH_CLIENT_ID,
    clientSecret: config.TWITCH_CLIENT_SECRET,
    authUrl: config.TWITCH_AUTH_URL,
    apiUrl: config.TWITCH_API_URL,
    timeoutMs: config.PROVIDER_TIMEOUT_MS
  })
  const x = new TwitterClient({
    apiKey: config.TWITTER_API_KEY, apiSecret: config.TWITTER_API_SECRET, apiUrl: config.TWITTER_API_URL, browserUrl: config.TWITTER_BROWSER_URL, timeoutMs: config.PROVIDER_TIMEOUT_MS
  })
  // A refresh or an unlink makes at most two provider calls while it holds the grant's lease.
  const grantLeaseTtlMs = 2 * config.PROVIDER_TIMEOUT_MS + 5000
  const tokens = new TokenService({
    db: app.db, store, twitch, wakeOutbox: () => app.outbox.wake(), log: app.log, now, refreshMarginMs: config.TOKEN_REFRESH_MARGIN_S * 1000, leaseTtlMs: grantLeaseTtlMs
  })
  const validator = new TwitchValidator({
    db: app.db, store, twitch, tokens, log: app.log, intervalSeconds: config.TWITCH_VALIDATE_INTERVAL_S, concurrency: config.TWITCH_VALIDATE_CONCURRENCY
  })
  app.decorate('tokens', tokens)
  app.decorate('twitchValidator', validator)
  serveTokenRequests(app, tokens)
  serveRecipients(app)
  consumeTwitchRevocations(app, app.db)
  app.addHook('onReady', async () => { validator.start() })
  app.addHook('preClose', async () => { await validator.stop() })

  const attempts = new OAuthAttempts(app.redis, { publicUrl: config.PUBLIC_URL, ttlSeconds: config.OAUTH_ATTEMPT_TTL_S })
  const flow = connectionFlow(app, { db: app.db, store, frontendUrl: config.FRONTEND_URL, twoFactor })
  await app.register(twitchRoutes, { config, attempts, flow, twitch, now })
  const twitterStarts = new AddressLimit(app.redis, { name: 'twitter-login', max: config.TWITTER_LOGIN_MAX_PER_ADDRESS, windowSeconds: config.TWITTER_LOGIN_WINDOW_S })
  await app.register(twitterRoutes, { config, attempts, flow, x, cipher, starts: twitterStarts })
  const revokers: Record<'twitch' | 'twitter', Revoker> = {
    twitch: async ({ accessToken, refreshToken }) => {
      // An expired access token is "invalid" to /revoke; the refresh token still ends the grant.
      if (!await twitch.revoke(accessToken) && refreshToken !== null) await twitch.revoke(refreshToken)
    },
    // A token X already considers invalid (401) needs no revoking.
    twitter: async ({ accessToken, tokenSecret }) => { await x.invalidate(accessToken, tokenSecret ?? '') }
  }
  await app.register(connectionRoutes, { db: app.db, store, leaseTtlMs: grantLeaseTtlMs, revokers })
  // Exporting the account's data, and deleting the account (and, with it, every service's data of the user).
  await app.register(accountDataRoutes, { config, db: app.db, passwords, throttle, store, revokers, leaseTtlMs: grantLeaseTtlMs })
  consumeUserDeletions(app, { redisPrefix: config.REDIS_PREFIX })
  prepareExports(app, config)
}

/** E-mail, mail sending, password reset and change, sessions, two-factor (docs/api.md, "Account security"). */
async function registerAccountSecurity (app: FastifyInstance, { config, passwords, throttle, sessions, totp, twoFactor }: {
  config: AuthConfig, passwords: Passwords, throttle: LoginThrottle, sessions: RedisSessionStore, totp: Totp, twoFactor: TwoFactorCodes
}) {
  const accountSessions = new AccountSessions(app.redis, sessions, config.SESSION_IDLE_TIMEOUT_S)
  await app.register(emailRoutes, { config })
  await app.register(passwordRoutes, { config, passwords, throttle, accountSessions })
  await app.register(sessionRoutes, { config, accountSessions })
  await app.register(twoFactorRoutes, { totp, codes: twoFactor, passwords, throttle })
  const mailer = new Mailer({ url: config.SMTP_URL, from: config.MAIL_FROM, timeoutMs: config.MAIL_SMTP_TIMEOUT_MS })
  app.addHook('onReady', async () => {
    await sendQueuedMails(app, {
      mailer, frontendUrl: config.FRONTEND_URL, retryBaseMs: config.MAIL_RETRY_BASE_MS, retryMaxMs: config.MAIL_RETRY_MAX_MS, maxDeliver: config.MAIL_MAX_DELIVER, smtpTimeoutMs: config.MAIL_SMTP_TIMEOUT_MS
    })
  })
  app.addHook('onClose', async () => { mailer.close() })
}
