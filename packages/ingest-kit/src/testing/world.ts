import { randomUUID } from 'node:crypto'
import { AUTH_STREAM, ConnectionLinkedV1, ConnectionUnlinkedV1, METRICS_STREAM, type EventPayload, type ProviderName } from '@pulse/contracts'
import { EventBus, IDENTITY_HEADER, createDatabase, outboxBacklog, signIdentity } from '@pulse/service-kit'
import { createTestDatabase, drained, eventually as pollUntil, testInfra, uniqueName, type Teardown } from '@pulse/testing'
import { sql, type Kysely } from 'kysely'
import type { MetricsContracts } from '../pipeline/types.js'
import { TestTokenResponder } from './token-responder.js'

export type Refreshed = EventPayload<MetricsContracts['refreshed']>
export type RefreshFailed = EventPayload<MetricsContracts['failed']>

/**
 * What one test file of an ingest service shares: a migrated database, a NATS prefix, the stand-in
 * for auth's token responder, the test's own bus (publishes auth's events, reads the streams) and
 * the refresh outcomes the service published.
 */
export interface IngestWorld<DB> {
  databaseUrl: string
  prefix: string
  natsUrl: string
  responder: TestTokenResponder
  bus: EventBus
  refreshed: Refreshed[]
  failed: RefreshFailed[]
  /** The test's own connection to the service's database. */
  db: Kysely<DB>
}

export interface IngestWorldOptions {
  /** A label of the NATS prefix and connection (`twitch`). */
  name: string
  schema: string
  migrate: (databaseUrl: string) => Promise<void>
  contracts: MetricsContracts
}

export async function startIngestWorld<DB> (t: Teardown, options: IngestWorldOptions): Promise<IngestWorld<DB>> {
  const infra = await testInfra()
  const databaseUrl = await createTestDatabase(t)
  await options.migrate(databaseUrl)
  const prefix = uniqueName(options.name)
  const responder = await TestTokenResponder.start({ natsUrl: infra.natsUrl, prefix })
  const bus = await EventBus.connect({ url: infra.natsUrl, name: `${options.name}-test`, prefix, streams: [METRICS_STREAM, AUTH_STREAM] })
  const db = createDatabase<DB>({ url: databaseUrl, schema: options.schema, poolMax: 2 })
  const world: IngestWorld<DB> = { databaseUrl, prefix, natsUrl: infra.natsUrl, responder, bus, refreshed: [], failed: [], db }
  const { refreshed, failed } = options.contracts
  await bus.consume([refreshed, failed], { durable: 'test-watch', stream: METRICS_STREAM }, async (payload, contract) => {
    if (contract === refreshed) world.refreshed.push(payload as Refreshed)
    else world.failed.push(payload as RefreshFailed)
  })
  t.teardown(async () => {
    await bus.jsm.streams.delete(bus.streamName(METRICS_STREAM)).catch(() => {})
    await bus.jsm.streams.delete(bus.streamName(AUTH_STREAM)).catch(() => {})
    await bus.close()
    await responder.close()
    await db.destroy()
  })
  return world
}

/** The provider account of a link or unlink, and when it happened (ms, on the simulator's clock). */
export interface ProviderAccountEvent {
  userId: string
  provider: ProviderName
  providerUserId: string
  at: number
}

/** What auth publishes when a user connected a provider account. */
export async function publishLinked<DB> (world: IngestWorld<DB>, { userId, provider, providerUserId, at }: ProviderAccountEvent, providerLogin: string): Promise<void> {
  await world.bus.publish(ConnectionLinkedV1, { userId, provider, providerUserId, providerLogin, linkedAt: new Date(at).toISOString() })
}

/** What auth publishes when a user disconnected a provider account. */
export async function publishUnlinked<DB> (world: IngestWorld<DB>, { userId, provider, providerUserId, at }: ProviderAccountEvent): Promise<void> {
  await world.bus.publish(ConnectionUnlinkedV1, { userId, provider, providerUserId, unlinkedAt: new Date(at).toISOString() })
}

/** Polls until `fn` holds or 20 s pass (the pipeline's redeliveries take a few seconds). */
export const eventually = async (fn: () => boolean | Promise<boolean>, ms = 20_000): Promise<boolean> => await pollUntil(fn, ms)


export const refreshedOf = <DB>(world: IngestWorld<DB>, userId: string) => world.refreshed.filter((e) => e.userId === userId)
export const failedOf = <DB>(world: IngestWorld<DB>, userId: string) => world.failed.filter((e) => e.userId === userId)

/** The identity header the gateway adds for a logged-in user, minted for `audience` (the service). */
export function identityHeaders (userId: string, audience: string, secret: string): Record<string, string> {
  return { [IDENTITY_HEADER]: signIdentity({ userId, role: 'user', timezone: 'UTC', requestId: randomUUID(), audience }, secret) }
}

/** Rows per table of a user's data. */
export async function rowsOf<DB> (db: Kysely<DB>, userId: string, tables: readonly string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const table of tables) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where user_id = ${userId}`.execute(db)
    counts[table] = rows[0]?.n ?? 0
  }
  return counts
}

/**
 * The simulator's calls per endpoint (`METHOD /path`) since `before` (an earlier
 * `sim.control.callCounts()`), only those whose endpoint contains `marker` (the provider's API:
 * `' /helix/'`, `' /2/'`).
 */
export function providerCallsSince (sim: { control: { callCounts: () => Record<string, number> } }, before: Record<string, number>, marker: string): Record<string, number> {
  const diff: Record<string, number> = {}
  for (const [endpoint, count] of Object.entries(sim.control.callCounts())) {
    if (!endpoint.includes(marker)) continue
    const d = count - (before[endpoint] ?? 0)
    if (d !== 0) diff[endpoint] = d
  }
  return diff
}

/** How many messages of a subject the metrics stream holds. */
export async function messagesInStream<DB> (world: IngestWorld<DB>, subject: string): Promise<number> {
  const info = await world.bus.jsm.streams.info(world.bus.streamName(METRICS_STREAM), { subjects_filter: world.bus.subject(subject) })
  return info.state.subjects?.[world.bus.subject(subject)] ?? 0
}

/**
 * Waits until the service under test has nothing left to do (see `drained` in @pulse/testing): the
 * consumers of the world's streams, the test's watcher among them, have acknowledged everything (a
 * refresh waiting for its redelivery after a 429 is not acknowledged yet) and the outbox is empty.
 */
export async function quiet<DB> (world: IngestWorld<DB>, ms = 20_000): Promise<boolean> {
  return await drained(world.bus, async () => (await outboxBacklog(world.db)).unsent, ms)
}

/**
 * The settings of an ingest service under test on this world: silent, on the world's database and
 * prefix, the scheduler driven by hand, short retries and redeliveries, a quick outbox.
 */
export function testIngestEnv<DB> (world: IngestWorld<DB>, prefix: string, secret: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    IDENTITY_SECRET: secret,
    DATABASE_URL: world.databaseUrl,
    NATS_URL: world.natsUrl,
    NATS_PREFIX: world.prefix,
    [`${prefix}_SCHEDULER_ENABLED`]: 'false',
    [`${prefix}_RETENTION_ENABLED`]: 'false',
    [`${prefix}_HTTP_RETRY_BASE_MS`]: '20',
    [`${prefix}_REDELIVERY_BASE_MS`]: '200',
    [`${prefix}_REDELIVERY_MAX_MS`]: '1000',
    OUTBOX_POLL_INTERVAL_MS: '100'
  }
}
