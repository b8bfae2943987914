import { randomUUID } from 'node:crypto'
import { METRICS_CONTRACTS, TwitchHistoryQuerySchema, TwitchHistorySchema } from '@pulse/contracts'
import { createServerOptions, loadConfig, migrateToLatest } from '@pulse/service-kit'
import type { Teardown } from '@pulse/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import {
  checkIngestConfig, ingestConfigProperties, ingestHttpErrors, ingestService, snapshotBaseRow, type IngestDatabase, type MetricsContracts
} from '../src/index.js'
import { identityHeaders, publishLinked, publishUnlinked, startIngestWorld, testIngestEnv, type IngestWorld } from '../src/testing/index.js'

/**
 * A provider that exists only in the kit's tests: its adapter asks auth (the test responder) for a
 * token, "fetches" the numbers a test set for the account, and keeps one list. It lets the kit's
 * own tests cover what every ingest service shares, without a provider.
 */
export const SCHEMA = 'fake_ingest'
export const SECRET = 'a-test-identity-secret-of-at-least-32-chars'
export const SERVICE = 'fake-ingest'
export const CONTRACTS: MetricsContracts = METRICS_CONTRACTS.twitch
export const USER_TABLES = ['tracked_accounts', 'processed_refreshes', 'snapshots', 'snapshots_hourly', 'snapshots_daily', 'items'] as const

export interface Database extends Omit<IngestDatabase, 'snapshots'> {
  snapshots: { id: string, user_id: string, captured_at: Date, followers: number }
  items: { user_id: string, position: number, name: string }
}

export interface FakeWorld extends IngestWorld<Database> {
  /** The test's clock, ms since the epoch, shared by every app of the world: it runs, and `advance` moves it on. */
  clock: { now: () => number, advance: (ms: number) => void }
  /** What the provider shows per provider account. */
  followers: Map<string, number>
}

const properties = ingestConfigProperties('FAKE', { port: 0, rateLimitWindowS: 60 })
const errors = ingestHttpErrors('FAKE', 'Fake')

export async function startFakeWorld (t: Teardown): Promise<FakeWorld> {
  const world = await startIngestWorld<Database>(t, {
    name: 'fake',
    schema: SCHEMA,
    migrate: async (url) => { await migrateToLatest({ url, schema: SCHEMA, folder: new URL('./fixtures/migrations', import.meta.url) }) },
    contracts: CONTRACTS
  })
  // Starts mid-window, so a test never straddles the start of a scheduler window by accident.
  const start = Date.now()
  let offset = Date.parse('2026-06-15T12:05:00Z') - start
  const clock = { now: () => Date.now() + offset, advance: (ms: number) => { offset += ms } }
  return Object.assign(world, { clock, followers: new Map<string, number>() })
}

/** One replica of the fake service on the world's database and prefix; closed at the end. */
export async function buildFakeApp (t: Teardown, world: FakeWorld, env: Record<string, string> = {}): Promise<FastifyInstance> {
  const config = loadConfig(properties, {
    ...testIngestEnv(world, 'FAKE', SECRET),
    ...env
  }, { check: (c) => checkIngestConfig('FAKE', c) })
  const server = Fastify(createServerOptions(config, { logger: false }))
  // Registered without encapsulation so that tests reach `app.ingest` (the scheduler tick).
  await server.register(fp(async (app) => {
    await app.register(ingestService, {
      config,
      prefix: 'FAKE',
      service: SERVICE,
      provider: 'twitch',
      providerName: 'Fake',
      schema: SCHEMA,
      openapi: { title: 'Fake metrics', description: 'The kit under test.' },
      contracts: CONTRACTS,
      rateLimitHeaders: { remaining: 'ratelimit-remaining', reset: 'ratelimit-reset' },
      now: world.clock.now,
      adapter: () => ({
        fetch: async (session, account) => await session.call(async () => ({ followers: world.followers.get(account.provider_user_id) ?? 0 })),
        store: async (trx, snapshot, result: { followers: number }) => {
          await trx.insertInto('snapshots').values({ ...snapshotBaseRow(snapshot), followers: result.followers }).execute()
          await trx.deleteFrom('items').where('user_id', '=', snapshot.userId).execute()
          await trx.insertInto('items').values([0, 1, 2].map((position) => ({ user_id: snapshot.userId, position, name: `item ${position}` }))).execute()
        },
        deleteUserRows: async (trx, userId) => { await trx.deleteFrom('items').where('user_id', '=', userId).execute() }
      }),
      routes: { errors, metricColumns: { followers: 'followers' }, historyQuerySchema: TwitchHistoryQuerySchema, historySchema: TwitchHistorySchema }
    })
  }, { name: SERVICE }))
  await server.ready()
  t.teardown(async () => { await server.close() })
  return server
}

/** What auth does when a user connects the provider: a token for the responder, then the link event. Answers the user id. */
export async function connect (world: FakeWorld, providerUserId: string, { userId = randomUUID(), followers = 10 } = {}): Promise<string> {
  world.followers.set(providerUserId, followers)
  world.responder.set(userId, 'twitch', {
    current: { providerUserId, providerLogin: providerUserId, accessToken: randomUUID(), expiresAt: new Date(world.clock.now() + 3600_000).toISOString(), scopes: [] }
  })
  await publishLinked(world, { userId, provider: 'twitch', providerUserId, at: world.clock.now() }, providerUserId)
  return userId
}

export async function unlink (world: FakeWorld, userId: string, providerUserId: string, unlinkedAt = world.clock.now()): Promise<void> {
  await publishUnlinked(world, { userId, provider: 'twitch', providerUserId, at: unlinkedAt })
}

export const as = (userId: string) => identityHeaders(userId, SERVICE, SECRET)

export type FakeDb = Kysely<Database>
