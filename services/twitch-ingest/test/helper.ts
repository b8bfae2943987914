import { randomUUID } from 'node:crypto'
import { METRICS_CONTRACTS, TWITCH_INGEST_SCOPES } from '@pulse/contracts'
import {
  eventually, failedOf, identityHeaders, messagesInStream, providerCallsSince, publishLinked, publishUnlinked, quiet, refreshedOf, rowsOf as rowsOfTables, startIngestWorld, testIngestEnv, type IngestWorld, type ResponderGrant
} from '@pulse/ingest-kit/testing'
import { SIM_CREDENTIALS, startProviderSim, type ProviderSim } from '@pulse/provider-sim'
import { createServerOptions } from '@pulse/service-kit'
import { testInfra, type Teardown } from '@pulse/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import app from '../src/app.js'
import { loadTwitchIngestConfig, type TwitchIngestConfig } from '../src/config.js'
import { SCHEMA, USER_TABLES, type Database } from '../src/db/database.js'
import { migrate } from '../src/db/migrate.js'

export const SECRET = 'a-test-identity-secret-of-at-least-32-chars'
/** The simulator starts here (mid-hour, so a test never straddles a change of the simulated hour). */
export const SIM_START = Date.parse('2026-06-15T12:05:00Z')
const REDIRECT_URI = 'http://127.0.0.1:9/callback'

/** What one test file shares: the kit's test world of this service, and the provider simulator. */
export interface World extends IngestWorld<Database> {
  sim: ProviderSim
}

export async function startWorld (t: Teardown, simOptions: Omit<Parameters<typeof startProviderSim>[0] & object, 'port' | 'startTime'> = {}): Promise<World> {
  const world = await startIngestWorld<Database>(t, {
    name: 'twitch', schema: SCHEMA, migrate: async (url) => { await migrate(url) },
    contracts: METRICS_CONTRACTS.twitch
  })
  const sim = await startProviderSim({ ...simOptions, port: 0, startTime: SIM_START })
  t.teardown(async () => { await sim.close() })
  return Object.assign(world, { sim })
}

export interface Built {
  app: FastifyInstance
  config: TwitchIngestConfig
}

/** The service over the world's database and prefix, on the simulator's clock; closed at the end. */
export async function buildApp (t: Teardown, world: World, env: Record<string, string> = {}): Promise<Built> {
  const config = loadTwitchIngestConfig({
    ...testIngestEnv(world, 'TWITCH', SECRET),
    TWITCH_AUTH_URL: world.sim.twitchAuthUrl,
    TWITCH_API_URL: world.sim.twitchApiUrl,
    REDIS_URL: (await testInfra()).redisUrl,
    REDIS_PREFIX: `${world.prefix}:`,
    ...env
  })
  const server = Fastify(createServerOptions(config, { logger: false }))
  // Registered without encapsulation so that tests reach `app.ingest` (the scheduler tick).
  await server.register(fp(app, { name: 'twitch-ingest' }), { config, now: () => world.sim.control.now() })
  await server.ready()
  t.teardown(async () => { await server.close() })
  return { app: server, config }
}

// ------------------------------------------------------------------------------------------------
// Real tokens from the simulator, as auth would get them

interface TwitchTokenAnswer { access_token: string, refresh_token: string, expires_in: number, scope: string[] }

/** Runs the authorization code flow at the simulator with scripted consent; answers the token set. */
export async function obtainTwitchTokens (sim: ProviderSim, login: string, scopes: readonly string[] = TWITCH_INGEST_SCOPES): Promise<TwitchTokenAnswer> {
  const authorize = new URL(`${sim.twitchAuthUrl}/authorize`)
  authorize.search = new URLSearchParams({
    client_id: SIM_CREDENTIALS.twitch.clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: scopes.join(' '),
    state: randomUUID(),
    sim_user: login,
    sim_decision: 'approve'
  }).toString()
  const consent = await fetch(authorize, { redirect: 'manual' })
  const location = consent.headers.get('location')
  if (consent.status !== 302 || location === null) throw new Error(`authorize answered ${consent.status}`)
  const code = new URL(location).searchParams.get('code')
  if (code === null) throw new Error(`authorize redirected without a code: ${location}`)
  return await tokenRequest(sim, { code, grant_type: 'authorization_code', redirect_uri: REDIRECT_URI })
}

/** A refresh at the simulator (the refresh token is URL-encoded by URLSearchParams, as Twitch requires). */
export async function refreshTwitchTokens (sim: ProviderSim, refreshToken: string): Promise<TwitchTokenAnswer> {
  return await tokenRequest(sim, { refresh_token: refreshToken, grant_type: 'refresh_token' })
}

async function tokenRequest (sim: ProviderSim, params: Record<string, string>): Promise<TwitchTokenAnswer> {
  const response = await fetch(`${sim.twitchAuthUrl}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: SIM_CREDENTIALS.twitch.clientId, client_secret: SIM_CREDENTIALS.twitch.clientSecret, ...params }).toString()
  })
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`)
  return await response.json() as TwitchTokenAnswer
}

function grantOf (sim: ProviderSim, login: string, tokens: TwitchTokenAnswer): ResponderGrant {
  return {
    providerUserId: sim.control.expectedTwitch(login).userId,
    providerLogin: login,
    accessToken: tokens.access_token,
    expiresAt: new Date(sim.control.now() + tokens.expires_in * 1000).toISOString(),
    scopes: tokens.scope
  }
}

/**
 * What auth does when a user connects Twitch: gets real tokens (here through the simulator's
 * scripted consent), answers token requests with them (refreshing on a rejected token) and
 * publishes auth.connection.linked.v1. Answers the Pulse user id.
 */
export async function connectTwitch (world: World, login: string, { userId = randomUUID(), scopes = TWITCH_INGEST_SCOPES }: { userId?: string, scopes?: readonly string[] } = {}): Promise<string> {
  const { sim } = world
  const tokens = await obtainTwitchTokens(sim, login, scopes)
  let refreshToken = tokens.refresh_token
  world.responder.set(userId, 'twitch', {
    current: grantOf(sim, login, tokens),
    renew: async () => {
      try {
        const renewed = await refreshTwitchTokens(sim, refreshToken)
        refreshToken = renewed.refresh_token
        return grantOf(sim, login, renewed)
      } catch {
        return { error: 'invalid_grant' }
      }
    }
  })
  await publishLinked(world, { userId, provider: 'twitch', providerUserId: sim.control.expectedTwitch(login).userId, at: sim.control.now() }, login)
  return userId
}

export async function unlinkTwitch (world: World, userId: string, login: string): Promise<void> {
  await publishUnlinked(world, { userId, provider: 'twitch', providerUserId: world.sim.control.expectedTwitch(login).userId, at: world.sim.control.now() })
}

// ------------------------------------------------------------------------------------------------
// Looking at the outcome

/** The identity header the gateway adds for a logged-in user. */
export const as = (userId: string): Record<string, string> => identityHeaders(userId, 'twitch-ingest', SECRET)

/** Waits until the service has nothing left to do (see the kit's `quiet`): then what did not happen will not. */
export const drained = async (world: World): Promise<boolean> => await quiet(world)

export { eventually, failedOf, messagesInStream, refreshedOf }

/** Rows per table of the user's data. */
export const rowsOf = async (db: Kysely<Database>, userId: string) => await rowsOfTables(db, userId, USER_TABLES)

/** Helix calls per endpoint made since `before` (a copy of an earlier callCounts()). */
export const callsSince = (sim: ProviderSim, before: Record<string, number>): Record<string, number> => providerCallsSince(sim, before, ' /helix/')
