import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { AUTH_STREAM } from '@pulse/contracts'
import { databaseOptionsOf, databasePlugin, natsPlugin, outboxPlugin, redisPlugin, servicePlugin, sessionCookieName } from '@pulse/service-kit'
import type { FastifyInstance } from 'fastify'
import type { AuthConfig } from './config.js'
import { AUTH_SCHEMA } from './db/database.js'
import { consumeTwitchRevocations } from './events/twitch-revocations.js'
import { serveTokenRequests } from './events/token-responder.js'
import { AddressLimit, LoginThrottle } from './login-throttle.js'
import { OAuthAttempts } from './oauth/attempts.js'
import { connectionFlow } from './oauth/flow.js'
import { Passwords } from './passwords.js'
import { TwitchClient } from './providers/twitch.js'
import { TwitterClient } from './providers/twitter.js'
import accountRoutes from './routes/accounts.js'
import connectionRoutes from './routes/connections.js'
import twitchRoutes from './routes/twitch.js'
import twitterRoutes from './routes/twitter.js'
import { RedisSessionStore } from './session-store.js'
import { TokenCipher } from './tokens/token-cipher.js'
import { TokenService } from './tokens/token-service.js'
import { TokenStore } from './tokens/token-store.js'
import { TwitchValidator } from './tokens/twitch-validation.js'

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
  const identitySecrets = [config.IDENTITY_SECRET, config.IDENTITY_SECRET_PREVIOUS].filter((s): s is string => s !== undefined)
  await app.register(servicePlugin, { prefix: 'AUTH', audience: 'auth', identitySecrets, openapi: { title: 'Pulse accounts' }, testProbes: config.TEST_PROBES })
  await app.register(databasePlugin, databaseOptionsOf(config, AUTH_SCHEMA))
  await app.register(redisPlugin, { url: config.REDIS_URL, keyPrefix: config.REDIS_PREFIX, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS })
  await app.register(natsPlugin, { url: config.NATS_URL, name: 'auth', prefix: config.NATS_PREFIX, streams: [AUTH_STREAM] })
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
  await app.register(accountRoutes, { config, passwords, throttle, registrations, sessions })

  // Provider connections: auth is the only holder of provider tokens.
  const cipher = TokenCipher.fromSetting(config.TOKEN_ENCRYPTION_KEYS)
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
  consumeTwitchRevocations(app, app.db)
  app.addHook('onReady', async () => { validator.start() })
  app.addHook('preClose', async () => { await validator.stop() })

  const attempts = new OAuthAttempts(app.redis, { publicUrl: config.PUBLIC_URL, ttlSeconds: config.OAUTH_ATTEMPT_TTL_S })
  const flow = connectionFlow(app, { db: app.db, store, frontendUrl: config.FRONTEND_URL })
  await app.register(twitchRoutes, { config, attempts, flow, twitch, now })
  const twitterStarts = new AddressLimit(app.redis, { name: 'twitter-login', max: config.TWITTER_LOGIN_MAX_PER_ADDRESS, windowSeconds: config.TWITTER_LOGIN_WINDOW_S })
  await app.register(twitterRoutes, { config, attempts, flow, x, cipher, starts: twitterStarts })
  await app.register(connectionRoutes, {
    db: app.db,
    store,
    leaseTtlMs: grantLeaseTtlMs,
    revokers: {
      twitch: async ({ accessToken, refreshToken }) => {
        // An expired access token is "invalid" to /revoke; the refresh token still ends the grant.
        if (!await twitch.revoke(accessToken) && refreshToken !== null) await twitch.revoke(refreshToken)
      },
      // A token X already considers invalid (401) needs no revoking.
      twitter: async ({ accessToken, tokenSecret }) => { await x.invalidate(accessToken, tokenSecret ?? '') }
    }
  })
}
