import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { Writable } from 'node:stream'
import { AUTH_STREAM, CONTACT_STREAM, NOTIFY_STREAM, RecipientsRpcV1, type Recipient, type RecipientsReply } from '@pulse/contracts'
import { EventBus, IDENTITY_HEADER, answerRequests, createDatabase, createServerOptions, signIdentity } from '@pulse/service-kit'
import { createTestDatabase, drained, eventually as pollUntil, testInfra, uniqueName, type Teardown } from '@pulse/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import { sql, type Kysely } from 'kysely'
import app, { type NotifyAppOptions } from '../src/app.js'
import { loadNotifyConfig, type NotifyConfig } from '../src/config.js'
import { NOTIFY_SCHEMA, type Database } from '../src/db/database.js'
import { migrate } from '../src/db/migrate.js'

export const SECRET = 'a-test-identity-secret-of-at-least-32-chars'

export interface Built {
  app: FastifyInstance
  /** The app's own instance: its decorators (`reminders`, `deliveries`). */
  inner: FastifyInstance
  config: NotifyConfig
  /** The test's own connection to the app's database. */
  db: Kysely<Database>
  /** Every log line the app wrote. */
  lines: Record<string, unknown>[]
  databaseUrl: string
}

export interface BuildOptions {
  env?: Record<string, string>
  /** Another replica: the same database and NATS prefix as this one. */
  sameAs?: Built
  resolve?: NotifyAppOptions['resolve']
  now?: () => number
}

/** The app with a fresh migrated database and its own NATS prefix, closed at the end. */
export async function build (t: Teardown, { env = {}, sameAs, resolve, now }: BuildOptions = {}): Promise<Built> {
  const infra = await testInfra()
  const databaseUrl = sameAs?.databaseUrl ?? await createTestDatabase(t)
  if (sameAs === undefined) await migrate(databaseUrl)
  const config = loadNotifyConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    IDENTITY_SECRET: SECRET,
    DATABASE_URL: databaseUrl,
    NATS_URL: infra.natsUrl,
    NATS_PREFIX: sameAs?.config.NATS_PREFIX ?? uniqueName('notify'),
    OUTBOX_POLL_INTERVAL_MS: '100',
    NOTIFY_WORKER_POLL_MS: '100',
    NOTIFY_RETRY_BASE_MS: '100',
    NOTIFY_RETRY_MAX_MS: '400',
    NOTIFY_RECIPIENTS_TIMEOUT_MS: '1000',
    MAIL_SMTP_TIMEOUT_MS: '2000',
    NOTIFY_WEBHOOK_TIMEOUT_MS: '2000',
    FRONTEND_URL: 'https://pulse.example',
    PUBLIC_URL: 'https://pulse.example',
    ...env
  })
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({ write (chunk, _enc, cb) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); cb() } })
  const server = Fastify(createServerOptions(config, { logger: { level: 'info', stream } }))
  // The app's own instance, for its decorators (the reminder scheduler).
  let inner: FastifyInstance | undefined
  await server.register(async (instance) => {
    await app(instance, { config, ...(resolve !== undefined ? { resolve } : {}), ...(now !== undefined ? { now } : {}) })
    inner = instance
  })
  await server.ready()
  const db = createDatabase<Database>({ url: databaseUrl, schema: NOTIFY_SCHEMA, poolMax: 2 })
  t.teardown(async () => {
    await server.close()
    await db.destroy()
  })
  return { app: server, inner: inner!, config, db, lines, databaseUrl }
}

/**
 * What auth does for notify (rpc.auth.recipients.v1) and what contact and auth publish, on the app's
 * NATS prefix: the test decides who the admins and users are. Deletes the streams at the end.
 */
export async function fakeAuth (t: Teardown, prefix: string, users: Recipient[]) {
  const infra = await testInfra()
  const bus = await EventBus.connect({ url: infra.natsUrl, name: 'notify-test', prefix, streams: [CONTACT_STREAM, AUTH_STREAM, NOTIFY_STREAM] })
  let answering = true
  const responder = await answerRequests(bus, RecipientsRpcV1, {
    handle: async (request): Promise<RecipientsReply> => {
      if (!answering) return { ok: false, error: 'unavailable', message: 'down for the test' }
      return { ok: true, recipients: 'role' in request ? users.filter((u) => u.role === 'admin') : users.filter((u) => request.userIds.includes(u.userId)) }
    },
    refuse: (): RecipientsReply => ({ ok: false, error: 'invalid', message: 'invalid' })
  })
  t.teardown(async () => {
    await responder.close()
    for (const stream of [CONTACT_STREAM, AUTH_STREAM, NOTIFY_STREAM]) await bus.jsm.streams.delete(bus.streamName(stream)).catch(() => {})
    await bus.close()
  })
  return { bus, users, setAnswering: (on: boolean) => { answering = on } }
}

export const recipient = (overrides: Partial<Recipient> = {}): Recipient =>
  ({ userId: randomUUID(), role: 'user', displayName: 'Ada', email: `${randomUUID().slice(0, 8)}@example.com`, timezone: 'UTC', ...overrides })

/** The identity header of a logged-in user. */
export function userHeader (role: 'user' | 'admin', userId: string = randomUUID(), timezone = 'UTC'): Record<string, string> {
  return { [IDENTITY_HEADER]: signIdentity({ userId, role, timezone, requestId: randomUUID(), audience: 'notify' }, SECRET) }
}

export interface ReceivedHook { headers: IncomingMessage['headers'], body: string, at: number }

/**
 * A webhook receiver on 127.0.0.1: `answer` decides each status (and may redirect); every request
 * is kept.
 */
export async function startReceiver (t: Teardown, answer: (n: number) => number | { redirect: string } = () => 200) {
  const received: ReceivedHook[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() })
      const decision = answer(received.length)
      if (typeof decision === 'number') { res.statusCode = decision; res.end('ok'); return }
      res.statusCode = 307
      res.setHeader('location', decision.redirect)
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }) })
  const port = (server.address() as { port: number }).port
  return { url: `http://127.0.0.1:${port}/hooks`, port, received }
}

/** Polls until `fn` holds or 15 s pass. */
export const eventually = async (fn: () => boolean | Promise<boolean>, ms = 15_000): Promise<boolean> => await pollUntil(fn, ms)

/**
 * Waits until notify has nothing left to do (@pulse/testing's `drained`): every consumer under its
 * NATS prefix has acknowledged every event, its outbox is empty and no delivery waits for a try
 * (a digest's held mails wait for their window, not for a try). Then a mail or webhook that has not
 * come will not come.
 */
export const quiet = async (built: Built): Promise<boolean> => await drained(built.inner.nats, async () => {
  const { rows } = await sql<{ n: number }>`select (select count(*) from outbox where sent_at is null) + (select count(*) from deliveries where status = 'pending') as n`.execute(built.db)
  return Number(rows[0]?.n ?? 0)
})
