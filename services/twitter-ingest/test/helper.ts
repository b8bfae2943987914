import { randomUUID } from 'node:crypto'
import { METRICS_CONTRACTS } from '@pulse/contracts'
import {
  eventually, failedOf, identityHeaders, messagesInStream, providerCallsSince, publishLinked, publishUnlinked, quiet, refreshedOf, rowsOf as rowsOfTables, startIngestWorld, testIngestEnv, type IngestWorld, type ResponderGrant
} from '@pulse/ingest-kit/testing'
import { parseFormEncoded, signRequest } from '@pulse/oauth1'
import { SIM_CREDENTIALS, startProviderSim, type ProviderSim, type XNaming } from '@pulse/provider-sim'
import { createServerOptions } from '@pulse/service-kit'
import type { Teardown } from '@pulse/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import app from '../src/app.js'
import { loadTwitterIngestConfig, type TwitterIngestConfig } from '../src/config.js'
import { SCHEMA, USER_TABLES, type Database } from '../src/db/database.js'
import { migrate } from '../src/db/migrate.js'

export const SECRET = 'a-test-identity-secret-of-at-least-32-chars'
/** The simulator starts here (mid-hour, so a test never straddles a change of the simulated hour). */
export const SIM_START = Date.parse('2026-06-15T12:05:00Z')
const CALLBACK = 'http://127.0.0.1:9/x-callback'

/** What one test file shares: the kit's test world of this service, and the provider simulator. */
export interface World extends IngestWorld<Database> {
  sim: ProviderSim
}

export async function startWorld (t: Teardown, { xNaming }: { xNaming?: XNaming } = {}): Promise<World> {
  const world = await startIngestWorld<Database>(t, {
    name: 'twitter', schema: SCHEMA, migrate: async (url) => { await migrate(url) },
    contracts: METRICS_CONTRACTS.twitter
  })
  const sim = await startProviderSim({ port: 0, startTime: SIM_START, xNaming })
  t.teardown(async () => { await sim.close() })
  return Object.assign(world, { sim })
}

export interface Built {
  app: FastifyInstance
  config: TwitterIngestConfig
}

/** The service over the world's database and prefix, on the simulator's clock; closed at the end. */
export async function buildApp (t: Teardown, world: World, env: Record<string, string> = {}): Promise<Built> {
  const config = loadTwitterIngestConfig({
    ...testIngestEnv(world, 'TWITTER', SECRET),
    TWITTER_API_URL: world.sim.twitterApiUrl,
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
  await publishLinked(world, { userId, provider: 'twitter', providerUserId: tokens.userId, at: world.sim.control.now() }, tokens.screenName)
  return userId
}

export async function unlinkX (world: World, userId: string, login: string): Promise<void> {
  await publishUnlinked(world, { userId, provider: 'twitter', providerUserId: world.sim.control.expectedTwitter(login).userId, at: world.sim.control.now() })
}

// ------------------------------------------------------------------------------------------------
// Looking at the outcome

/** The identity header the gateway adds for a logged-in user. */
export const as = (userId: string): Record<string, string> => identityHeaders(userId, 'twitter-ingest', SECRET)

/** Waits until the service has nothing left to do (see the kit's `quiet`): then what did not happen will not. */
export const drained = async (world: World): Promise<boolean> => await quiet(world)

export { eventually, failedOf, messagesInStream, refreshedOf }

/** Rows per table of the user's data. */
export const rowsOf = async (db: Kysely<Database>, userId: string) => await rowsOfTables(db, userId, USER_TABLES)

/** X API v2 calls per endpoint made since `before` (a copy of an earlier callCounts()). */
export const callsSince = (sim: ProviderSim, before: Record<string, number>): Record<string, number> => providerCallsSince(sim, before, ' /2/')
