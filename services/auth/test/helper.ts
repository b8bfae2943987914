import { Writable } from 'node:stream'
import { AUTH_STREAM } from '@pulse/contracts'
import { startProviderSim, type ProviderSim } from '@pulse/provider-sim'
import { IDENTITY_HEADER, createDatabase, sessionKey, signAssertion, signIdentity, type Identity } from '@pulse/service-kit'
import { createTestDatabase, drained, eventually as pollUntil, settle as waitFor, testInfra, uniqueName, type Teardown } from '@pulse/testing'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import type { Kysely } from 'kysely'
import { AUTH_SCHEMA, type Database, type ProviderName } from '../src/db/database.js'
import { migrate } from '../src/db/migrate.js'
import { TokenCipher } from '../src/tokens/token-cipher.js'
import { TokenStore, type ProviderTokens } from '../src/tokens/token-store.js'
import { Redis } from 'ioredis'
import authApp from '../src/app.js'
import { loadAuthConfig, type AuthConfig } from '../src/config.js'
import { authServerOptions } from '../src/server-options.js'

export const IDENTITY_SECRET = 'auth-test-identity-secret-0123456789abcdef'
/** The gateway's external URL in these tests; requests to it are injected into the app (test/browser.ts). */
export const TEST_PUBLIC_URL = 'http://pulse.test'

export interface TestAuth {
  /** The server (inject requests here). */
  app: FastifyInstance
  /** The auth app's own instance: its decorators (`tokens`, `twitchValidator`, `nats`, `db`). */
  inner: FastifyInstance
  config: AuthConfig
  /** The app's database, to look at what it stored. */
  db: Kysely<Database>
  /** A Redis client with the same key prefix as the app, to look at what it stored. */
  redis: Redis
  /** Every log line the app wrote (at the configured LOG_LEVEL; `silent` by default). */
  lines: string[]
  /** Headers the gateway would add for an anonymous caller at this address. */
  from: (clientIp: string) => Record<string, string>
  /** Headers the gateway would add for this logged-in user. */
  as: (identity: Omit<Identity, 'requestId'>) => Record<string, string>
  /** Payloads of the events in the app's AUTH stream so far, oldest first (optionally of one subject). */
  events: (subject?: string) => Promise<unknown[]>
}

export interface BuildOptions {
  /** A started simulator: the app's Twitch/X URLs point at it and its clock is the app's clock. */
  sim?: ProviderSim
}

/** Env that points the app at a simulator. */
export function simEnv (sim: ProviderSim): Record<string, string> {
  return { TWITCH_AUTH_URL: sim.twitchAuthUrl, TWITCH_API_URL: sim.twitchApiUrl, TWITTER_API_URL: sim.twitterApiUrl }
}

/** A provider simulator on a free port for this test file, closed at its end. */
export async function startSim (t: Teardown): Promise<ProviderSim> {
  const sim = await startProviderSim({ port: 0 })
  t.teardown(() => sim.close())
  return sim
}

/**
 * The app with a fresh migrated database (or `env.DATABASE_URL`), its own Redis key prefix and NATS
 * prefix (or `env.NATS_PREFIX`, for two apps on one bus), closed at the end with its stream deleted.
 */
export async function build (t: Teardown, env: Record<string, string> = {}, { sim }: BuildOptions = {}): Promise<TestAuth> {
  const infra = await testInfra()
  const databaseUrl = env.DATABASE_URL ?? await createTestDatabase(t)
  await migrate(databaseUrl)
  const redisPrefix = `${uniqueName('auth')}:`
  const config = loadAuthConfig({
    DATABASE_URL: databaseUrl,
    REDIS_URL: infra.redisUrl,
    REDIS_PREFIX: redisPrefix,
    NATS_URL: infra.natsUrl,
    NATS_PREFIX: uniqueName('auth'),
    IDENTITY_SECRET,
    LOG_LEVEL: 'silent',
    PUBLIC_URL: TEST_PUBLIC_URL,
    FRONTEND_URL: TEST_PUBLIC_URL,
    OUTBOX_POLL_INTERVAL_MS: '100',
    ...(sim !== undefined ? simEnv(sim) : {}),
    ...env
  })
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, callback) { lines.push(String(chunk)); callback() } })
  const app = Fastify(authServerOptions(config, { trustProxy: (_address: string, hop: number) => hop === 0, logger: { level: config.LOG_LEVEL, stream } }))
  let inner: FastifyInstance | undefined
  await app.register(async (instance) => {
    inner = instance
    await authApp(instance, { config, ...(sim !== undefined ? { now: () => sim.control.now() } : {}) })
  })
  await app.ready()
  // The start-up validation round holds the round's lock while it runs: a test's own round must not
  // race it (it would find the lock taken and not run).
  await inner!.twitchValidator.idle()
  const redis = new Redis(infra.redisUrl, { keyPrefix: redisPrefix })
  const db = createDatabase<Database>({ url: config.DATABASE_URL, schema: AUTH_SCHEMA })
  const bus = inner!.nats
  t.teardown(async () => {
    await bus.jsm.streams.delete(bus.streamName(AUTH_STREAM)).catch(() => {})
    await app.close()
    await db.destroy()
    const keys = await redis.keys(`${redisPrefix}*`)
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(redisPrefix.length)))
    redis.disconnect()
  })
  return {
    app,
    inner: inner!,
    config,
    db,
    redis,
    lines,
    from: (clientIp) => ({ [IDENTITY_HEADER]: signAssertion({ user: null, requestId: 'test', clientIp, audience: 'auth' }, IDENTITY_SECRET) }),
    as: (identity) => ({ [IDENTITY_HEADER]: signIdentity({ ...identity, requestId: 'test', audience: 'auth' }, IDENTITY_SECRET) }),
    events: async (subject) => {
      const name = bus.streamName(AUTH_STREAM)
      const info = await bus.jsm.streams.info(name)
      const out: unknown[] = []
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const msg = await bus.jsm.streams.getMessage(name, { seq }).catch(() => null)
        if (msg === null) continue
        if (subject !== undefined && msg.subject !== bus.subject(subject)) continue
        out.push(msg.json())
      }
      return out
    }
  }
}

/** The session id inside a `Set-Cookie` of the session cookie (value is `<id>.<signature>`). */
export function sessionIdFrom (res: LightMyRequestResponse, name = 'pulse_session'): string | undefined {
  const cookie = res.cookies.find((c) => c.name === name)
  return cookie === undefined || cookie.value === '' ? undefined : decodeURIComponent(cookie.value).split('.')[0]
}

export function cookieHeader (res: LightMyRequestResponse, name = 'pulse_session'): string {
  const cookie = res.cookies.find((c) => c.name === name)
  if (cookie === undefined) throw new Error('no session cookie set')
  return `${name}=${cookie.value}`
}

export async function sessionExists (redis: Redis, sessionId: string): Promise<boolean> {
  return (await redis.exists(sessionKey(sessionId))) === 1
}

/** Polls until `fn` holds or 10 s pass. */
export const eventually = async (fn: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> => await pollUntil(fn, ms)

/**
 * Only for proving that something does NOT happen (a second mail, an event that must not come): waits
 * a bound the caller derives from the settings involved. Never a way to wait for something to happen.
 */
export const settle = async (ms: number): Promise<void> => { await waitFor(ms) }

/**
 * Waits until auth has nothing left to do: its outbox is empty and every consumer under its prefix
 * has acknowledged every message (@pulse/testing's `drained`). Then an event that came once stays once.
 */
export const quiet = async (auth: TestAuth): Promise<boolean> =>
  await drained(auth.inner.nats, async () => (await auth.db.selectFrom('outbox').select('id').where('sent_at', 'is', null).execute()).length)

/**
 * Waits until every event the app has written to its outbox is published. Events reach the stream
 * only through the outbox, so once it is drained no event written so far can still arrive: a test
 * that proves an event came once waits on this instead of a pause.
 */
export const outboxDrained = async (auth: TestAuth): Promise<boolean> =>
  await eventually(async () => (await auth.db.selectFrom('outbox').select('id').where('sent_at', 'is', null).execute()).length === 0)

/** How many calls the simulator got at an endpoint (`POST /oauth2/token`). */
export const callsTo = (sim: ProviderSim, endpoint: string): number => sim.control.callCounts()[endpoint] ?? 0

export const countRows = async (auth: TestAuth, table: 'users' | 'connections'): Promise<number> =>
  (await auth.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n

/** A user's connection row and its tokens in plaintext, read the way an operator holding the key would. */
export async function storedTokens (auth: TestAuth, userId: string, provider: ProviderName = 'twitch') {
  const row = await auth.db.selectFrom('connections').selectAll().where('user_id', '=', userId).where('provider', '=', provider).executeTakeFirstOrThrow()
  const tokens: ProviderTokens = new TokenStore(TokenCipher.fromSetting(auth.config.TOKEN_ENCRYPTION_KEYS)).open(row)
  return { row, tokens }
}

/**
 * Gives an account made by a provider sign-in a password (a stand-in hash), so that its last
 * provider may be disconnected: no account may lose its last way in (AUTH_LAST_SIGN_IN_METHOD).
 */
export async function giveAPassword (auth: TestAuth, userId: string): Promise<void> {
  await auth.db.updateTable('users').set({ password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c3RhbmQtaW4$c3RhbmQtaW4', updated_at: new Date() }).where('id', '=', userId).execute()
}
