import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import { CONTACT_STREAM, ContactSubmittedV1, type ContactSubmissionBody } from '@pulse/contracts'
import { EventBus, IDENTITY_HEADER, createDatabase, createServerOptions, outboxBacklog, signAssertion, signIdentity } from '@pulse/service-kit'
import { createTestDatabase, drained, eventually as pollUntil, settle as waitFor, testInfra, uniqueName, type Teardown } from '@pulse/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import app from '../src/app.js'
import { loadContactConfig, type ContactConfig } from '../src/config.js'
import { CONTACT_SCHEMA, type Database } from '../src/db/database.js'
import { migrate } from '../src/db/migrate.js'

export const SECRET = 'a-test-identity-secret-of-at-least-32-chars'

export interface Built {
  app: FastifyInstance
  config: ContactConfig
  /** The test's own connection to the app's database (it works when the app's is cut). */
  db: Kysely<Database>
  /** Every log line the app wrote. */
  lines: Record<string, unknown>[]
}

export interface BuildOptions {
  /** Settings for the app; DATABASE_URL/NATS_URL/REDIS_URL may point at a TcpProxy. */
  env?: Record<string, string>
  /** The real database (when env.DATABASE_URL is a proxy in front of it). */
  databaseUrl?: string
}

/** The app with a fresh migrated database and its own NATS and Redis prefixes, closed at the end. */
export async function build (t: Teardown, { env = {}, databaseUrl }: BuildOptions = {}): Promise<Built> {
  const infra = await testInfra()
  const realDatabaseUrl = databaseUrl ?? await createTestDatabase(t)
  await migrate(realDatabaseUrl)
  const config = loadContactConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    IDENTITY_SECRET: SECRET,
    DATABASE_URL: realDatabaseUrl,
    DATABASE_CONNECT_TIMEOUT_MS: '500',
    NATS_URL: infra.natsUrl,
    NATS_PREFIX: uniqueName('contact'),
    REDIS_URL: infra.redisUrl,
    REDIS_PREFIX: `${uniqueName('contact')}:`,
    OUTBOX_POLL_INTERVAL_MS: '100',
    ...env
  })
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({ write (chunk, _enc, cb) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); cb() } })
  const server = Fastify(createServerOptions(config, { logger: { level: 'info', stream } }))
  await server.register(app, { config })
  await server.ready()
  const db = createDatabase<Database>({ url: realDatabaseUrl, schema: CONTACT_SCHEMA, poolMax: 2 })
  t.teardown(async () => {
    await server.close()
    await db.destroy()
  })
  return { app: server, config, db, lines }
}

/**
 * A JetStream consumer of the app's stream on a connection of its own (straight to NATS, so it
 * keeps working while the app's connection is cut). Deletes the stream at the end.
 */
export async function watchEvents (t: Teardown, prefix: string) {
  const infra = await testInfra()
  const bus = await EventBus.connect({ url: infra.natsUrl, name: 'contact-test', prefix, streams: [CONTACT_STREAM] })
  const received: { id: string, receivedAt: string, spam: boolean }[] = []
  t.teardown(async () => {
    await bus.jsm.streams.delete(bus.streamName(CONTACT_STREAM)).catch(() => {})
    await bus.close()
  })
  await bus.consume([ContactSubmittedV1], { durable: 'contact-test', stream: CONTACT_STREAM }, async (payload) => {
    received.push(payload as { id: string, receivedAt: string, spam: boolean })
  })
  return { bus, received }
}

/** The identity header of a logged-in user. */
export function userHeader (role: 'user' | 'admin', userId: string = randomUUID(), clientIp = '127.0.0.1'): Record<string, string> {
  return { [IDENTITY_HEADER]: signIdentity({ userId, role, timezone: 'UTC', requestId: randomUUID(), audience: 'contact' }, SECRET, 30, Date.now(), clientIp) }
}

/** The identity header of an anonymous visitor at this address (as the gateway asserts it). */
export function visitorHeader (clientIp: string): Record<string, string> {
  return { [IDENTITY_HEADER]: signAssertion({ user: null, requestId: randomUUID(), clientIp, audience: 'contact' }, SECRET) }
}

export const adminHeader = () => userHeader('admin')

/** A fresh client address (TEST-NET-3, RFC 5737) per call, so tests of one file never share a rate-limit bucket. */
let addressCounter = 0
export function nextAddress (): string {
  addressCounter++
  return `203.0.${113 + Math.floor(addressCounter / 250)}.${addressCounter % 250}`
}

export function validMessage (overrides: Partial<ContactSubmissionBody> = {}): ContactSubmissionBody {
  return { name: 'Ada Lovelace', email: 'ada@example.com', subject: 'Hello', message: 'I love the dashboard.', ...overrides }
}

export async function countSubmissions (db: Kysely<Database>): Promise<number> {
  const { count } = await db.selectFrom('submissions').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow()
  return count
}

/** Polls until `fn` holds or 15 s pass. */
export const eventually = async (fn: () => boolean | Promise<boolean>, ms = 15_000): Promise<boolean> => await pollUntil(fn, ms)

/** Waits `ms` for what must not happen while something is down (a bound the test derives from settings). */
export const settle = async (ms: number): Promise<void> => { await waitFor(ms) }

/** Waits until contact has nothing left to publish and the watcher has taken every event: then no further event will come. */
export const quiet = async (bus: EventBus, db: Kysely<Database>): Promise<boolean> => await drained(bus, async () => (await outboxBacklog(db)).unsent)
