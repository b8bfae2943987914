import { randomUUID } from 'node:crypto'
import {
  AUTH_STREAM, ConnectionLinkedV1, ConnectionUnlinkedV1, METRICS_STREAM, TwitterRefreshFailedV1, TwitterRefreshedV1, type EventPayload
} from '@pulse/contracts'
import { TestTokenResponder, type ResponderGrant } from '@pulse/ingest-kit/testing'
import { parseFormEncoded, signRequest } from '@pulse/oauth1'
import { SIM_CREDENTIALS, startProviderSim, type ProviderSim, type XNaming } from '@pulse/provider-sim'
import { EventBus, IDENTITY_HEADER, createDatabase, createServerOptions, signIdentity } from '@pulse/service-kit'
import { createTestDatabase, eventually as pollUntil, settle as waitFor, testInfra, uniqueName, type Teardown } from '@pulse/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { sql, type Kysely } from 'kysely'
import app from '../src/app.js'
import { loadTwitterIngestConfig, type TwitterIngestConfig } from '../src/config.js'
import { SCHEMA, USER_TABLES, type Database } from '../src/db/database.js'
import { migrate } from '../src/db/migrate.js'

export const SECRET = 'a-test-identity-secret-of-at-least-32-chars'
/** The simulator starts here (mid-hour, so a test never straddles a change of the simulated hour). */
export const SIM_START = Date.parse('2026-06-15T12:05:00Z')
const CALLBACK = 'http://127.0.0.1:9/x-callback'

export type Refreshed = EventPayload<typeof TwitterRefreshedV1>
export type RefreshFailed = EventPayload<typeof TwitterRefreshFailedV1>

/**
 * What one test file shares: the provider simulator, a database, a NATS prefix, the stand-in for
 * auth's token responder, and a watcher of the events the service publishes.
 */
export interface World {
  sim: ProviderSim
  databaseUrl: string
  prefix: string
  natsUrl: string
  responder: TestTokenResponder
  /** The test's own bus (publishes auth's events, reads the streams). */
  bus: EventBus
  refreshed: Refreshed[]
  failed: RefreshFailed[]
  /** The test's own connection to the service's database. */
  db: Kysely<Database>
}

export async function startWorld (t: Teardown, { xNaming }: { xNaming?: XNaming } = {}): Promise<World> {
  const infra = await testInfra()
  const databaseUrl = await createTestDatabase(t)
  await migrate(databaseUrl)
  const sim = await startProviderSim({ port: 0, startTime: SIM_START, xNaming })
  const prefix = uniqueName('twitter')
  const responder = await TestTokenResponder.start({ natsUrl: infra.natsUrl, prefix })
  const bus = await EventBus.connect({ url: infra.natsUrl, name: 'twitter-ingest-test', prefix, streams: [METRICS_STREAM, AUTH_STREAM] })
  const db = createDatabase<Database>({ url: databaseUrl, schema: SCHEMA, poolMax: 2 })
  const world: World = { sim, databaseUrl, prefix, natsUrl: infra.natsUrl, responder, bus, refreshed: [], failed: [], db }
  await bus.consume([TwitterRefreshedV1, TwitterRefreshFailedV1], { durable: 'test-watch', stream: METRICS_STREAM }, async (payload, contract) => {
    if (contract === TwitterRefreshedV1) world.refreshed.push(payload as Refreshed)
    else world.failed.push(payload as RefreshFailed)
  })
  t.teardown(async () => {
    await bus.jsm.streams.delete(bus.streamName(METRICS_STREAM)).catch(() => {})
    await bus.jsm.streams.delete(bus.streamName(AUTH_STREAM)).catch(() => {})
    await bus.close()
    await responder.close()
    await sim.close()
    await db.destroy()
  })
  return world
}

export interface Built {
  app: FastifyInstance
  config: TwitterIngestConfig
}

/** The service over the world's database and prefix, on the simulator's clock; closed at the end. */
export async function buildApp (t: Teardown, world: World, env: Record<string, string> = {}): Promise<Built> {
  const config = loadTwitterIngestConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    IDENTITY_SECRET: SECRET,
    DATABASE_URL: world.databaseUrl,
    NATS_URL: world.natsUrl,
    NATS_PREFIX: world.prefix,
    TWITTER_API_URL: world.sim.twitterApiUrl,
    TWITTER_SCHEDULER_ENABLED: 'false',
    TWITTER_HTTP_RETRY_BASE_MS: '20',
    TWITTER_REDELIVERY_BASE_MS: '200',
    TWITTER_REDELIVERY_MAX_MS: '1000',
    OUTBOX_POLL_INTERVAL_MS: '100',
    ...env
  })
  const server = Fastify(createServerOptions(config, { logger: false }))
  // Registered without encapsulation so that tests reach `app.ingest` (the scheduler tick).
  await server.register(fp(app, { name: 'twitter-ingest' }), { config, now: () => world.sim.control.now() })
  await server.ready()
  t.teardown(async () => { await server.close() })
  return { app: server, config }
}

// ------------------------------------------------------------------------------------------------
// Real tokens from the simulator, as auth would get them

export interface XTokens { token: string, secret: string, userId: string, screenName: string }

/**
 * X's OAuth 1.0a three-legged flow at the simulator (docs/providers.md §2.1), signed with @pulse/oauth1:
 * request_token → authorize with scripted consent → access_token.
 */
export async function obtainXTokens (sim: ProviderSim, login: string): Promise<XTokens> {
  const { consumerKey, consumerSecret } = SIM_CREDENTIALS.twitter
  const requestTokenUrl = `${sim.twitterApiUrl}/oauth/request_token`
  const requested = await fetch(requestTokenUrl, {
    method: 'POST',
    headers: { Authorization: signRequest({ method: 'POST', url: requestTokenUrl, consumerKey, consumerSecret, callback: CALLBACK }) }
  })
  if (!requested.ok) throw new Error(`request_token answered ${requested.status}`)
  const request = parseFormEncoded(await requested.text())
  if (request.oauth_callback_confirmed !== 'true' || request.oauth_token === undefined || request.oauth_token_secret === undefined) {
    throw new Error('request_token did not confirm the callback')
  }

  const authorize = new URL(`${sim.twitterApiUrl}/oauth/authorize`)
  authorize.search = new URLSearchParams({ oauth_token: request.oauth_token, sim_user: login, sim_decision: 'approve' }).toString()
  const consent = await fetch(authorize, { redirect: 'manual' })
  const location = consent.headers.get('location')
  if (consent.status !== 302 || location === null) throw new Error(`authorize answered ${consent.status}`)
  const back = new URL(location).searchParams
  const verifier = back.get('oauth_verifier')
  if (back.get('oauth_token') !== request.oauth_token || verifier === null) throw new Error(`authorize redirected without a verifier: ${location}`)

  const accessTokenUrl = `${sim.twitterApiUrl}/oauth/access_token`
  const exchanged = await fetch(accessTokenUrl, {
    method: 'POST',
    headers: {
      Authorization: signRequest({ method: 'POST', url: accessTokenUrl, consumerKey, consumerSecret, token: request.oauth_token, tokenSecret: request.oauth_token_secret, verifier })
    }
  })
  if (!exchanged.ok) throw new Error(`access_token answered ${exchanged.status}`)
  const access = parseFormEncoded(await exchanged.text())
  return { token: access.oauth_token!, secret: access.oauth_token_secret!, userId: access.user_id!, screenName: access.screen_name! }
}

function grantOf (tokens: XTokens): ResponderGrant {
  return { providerUserId: tokens.userId, providerLogin: tokens.screenName, accessToken: tokens.token, tokenSecret: tokens.secret, expiresAt: null, scopes: [] }
}

/**
 * What auth does when a user connects X: gets a real access token and secret (the simulator's
 * OAuth 1.0a flow), answers token requests with them and publishes auth.connection.linked.v1.
 * OAuth 1.0a tokens never expire: a token the provider rejects makes auth mark the connection
 * invalid (the responder then answers invalid_grant). Answers the Pulse user id.
 */
export async function connectX (world: World, login: string, { userId = randomUUID() }: { userId?: string } = {}): Promise<string> {
  const tokens = await obtainXTokens(world.sim, login)
  world.responder.set(userId, 'twitter', { current: grantOf(tokens) })
  await world.bus.publish(ConnectionLinkedV1, {
    userId, provider: 'twitter', providerUserId: tokens.userId, providerLogin: tokens.screenName, linkedAt: new Date(world.sim.control.now()).toISOString()
  })
  return userId
}

export async function unlinkX (world: World, userId: string, login: string): Promise<void> {
  await world.bus.publish(ConnectionUnlinkedV1, {
    userId, provider: 'twitter', providerUserId: world.sim.control.expectedTwitter(login).userId, unlinkedAt: new Date(world.sim.control.now()).toISOString()
  })
}

// ------------------------------------------------------------------------------------------------
// Looking at the outcome

/** The identity header the gateway adds for a logged-in user. */
export function as (userId: string): Record<string, string> {
  return { [IDENTITY_HEADER]: signIdentity({ userId, role: 'user', timezone: 'UTC', requestId: randomUUID(), audience: 'twitter-ingest' }, SECRET) }
}

/** Polls until `fn` holds or 20 s pass. */
export const eventually = async (fn: () => boolean | Promise<boolean>, ms = 20_000): Promise<boolean> => await pollUntil(fn, ms)

/** Waits a little for anything that should not happen (a second event) to show up. */
export const settle = async (ms = 1500): Promise<void> => { await waitFor(ms) }

export const refreshedOf = (world: World, userId: string) => world.refreshed.filter((e) => e.userId === userId)
export const failedOf = (world: World, userId: string) => world.failed.filter((e) => e.userId === userId)

/** Rows per table of the user's X data. */
export async function rowsOf (db: Kysely<Database>, userId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const table of USER_TABLES) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where user_id = ${userId}`.execute(db)
    counts[table] = rows[0]?.n ?? 0
  }
  return counts
}

/** How many messages of a subject the stream holds. */
export async function messagesInStream (world: World, subject: string): Promise<number> {
  const info = await world.bus.jsm.streams.info(world.bus.streamName(METRICS_STREAM), { subjects_filter: world.bus.subject(subject) })
  return info.state.subjects?.[world.bus.subject(subject)] ?? 0
}

/** X API v2 calls per endpoint made since `before` (a copy of an earlier callCounts()). */
export function callsSince (sim: ProviderSim, before: Record<string, number>): Record<string, number> {
  const now = sim.control.callCounts()
  const diff: Record<string, number> = {}
  for (const [endpoint, count] of Object.entries(now)) {
    if (!endpoint.includes(' /2/')) continue
    const d = count - (before[endpoint] ?? 0)
    if (d !== 0) diff[endpoint] = d
  }
  return diff
}
