import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createTestDatabase, TcpProxy, testInfra, uniqueName, type Teardown } from '@pulse/testing'
import { EventBus, OutboxRelay, createDatabase, enqueueEvent, migrateToLatest, type OutboxTable } from '../src/index.js'
import type { Generated, Kysely } from 'kysely'
import { ItemCreatedV1, KIT_STREAM, MIGRATIONS } from './fixtures/events.js'

interface DB extends OutboxTable { items: { id: Generated<number>, name: string } }
const SCHEMA = 'kit'

async function setup (t: Teardown, natsUrl?: string) {
  const infra = await testInfra()
  const databaseUrl = await createTestDatabase(t)
  await migrateToLatest({ url: databaseUrl, schema: SCHEMA, folder: MIGRATIONS })
  const db = createDatabase<DB>({ url: databaseUrl, schema: SCHEMA })
  const prefix = uniqueName('kit')
  const bus = await EventBus.connect({ url: natsUrl ?? infra.natsUrl, name: 'kit-test', prefix, streams: [KIT_STREAM] })
  t.teardown(async () => {
    await bus.jsm.streams.delete(bus.streamName(KIT_STREAM)).catch(() => {})
    await bus.close()
    await db.destroy()
  })
  const received: unknown[] = []
  await bus.consume([ItemCreatedV1], { durable: 'kit-test', stream: KIT_STREAM }, async (payload) => { received.push(payload) })
  return { db, bus, databaseUrl, prefix, received, infra }
}

/** Writes an item and its event in one transaction, as a service does. */
async function createItem (db: Kysely<DB>, name: string) {
  return await db.transaction().execute(async (trx) => {
    const { id } = await trx.insertInto('items').values({ name }).returning('id').executeTakeFirstOrThrow()
    await enqueueEvent(trx, ItemCreatedV1, { id, name })
    return id
  })
}

async function eventually (fn: () => boolean | Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await fn()) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 1000))

t.test('a committed write publishes its event once, with the outbox id as message id', async (t) => {
  const { db, bus, received } = await setup(t)
  const id = await createItem(db, 'first')
  const relay = new OutboxRelay({ db, bus, service: 'kit' })
  t.equal(await relay.relayBatch(), 1)
  t.equal(await relay.relayBatch(), 0, 'nothing left to send')
  t.ok(await eventually(() => received.length === 1))
  t.same(received, [{ id, name: 'first' }])
  const row = await db.selectFrom('outbox').selectAll().executeTakeFirstOrThrow()
  t.ok(row.sent_at instanceof Date, 'marked sent')
})

t.test('a rolled back transaction publishes nothing', async (t) => {
  const { db, bus, received } = await setup(t)
  await t.rejects(db.transaction().execute(async (trx) => {
    const { id } = await trx.insertInto('items').values({ name: 'doomed' }).returning('id').executeTakeFirstOrThrow()
    await enqueueEvent(trx, ItemCreatedV1, { id, name: 'doomed' })
    throw new Error('business rule failed after the event was written')
  }))
  const relay = new OutboxRelay({ db, bus, service: 'kit' })
  t.equal(await relay.relayBatch(), 0)
  await settle()
  t.same(received, [])
  const info = await bus.jsm.streams.info(bus.streamName(KIT_STREAM))
  t.equal(info.state.messages, 0, 'the stream holds nothing')
})

t.test('an event that breaks its contract fails the write, not the relay', async (t) => {
  const { db } = await setup(t)
  await t.rejects(db.transaction().execute(async (trx) => {
    await enqueueEvent(trx, ItemCreatedV1, { id: 'not-a-number' } as never)
  }), /does not match its contract/)
  const { count } = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow()
  t.equal(count, 0)
})

t.test('the relay killed between publish and mark-as-sent: after a restart the consumer sees the event once', async (t) => {
  const { db, bus, received, databaseUrl, prefix, infra } = await setup(t)
  const id = await createItem(db, 'crash')
  const child = spawn(process.execPath, ['--import=tsx', '--conditions=pulse-source', fileURLToPath(new URL('./fixtures/relay-crash.ts', import.meta.url))], {
    env: { PATH: process.env.PATH ?? '', NATS_URL: infra.natsUrl, NATS_PREFIX: prefix, DATABASE_URL: databaseUrl, SCHEMA },
    stdio: ['ignore', 'inherit', 'inherit']
  })
  const signal = await new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)))
  t.equal(signal, 'SIGKILL', 'the relay died after publishing')
  const row = await db.selectFrom('outbox').selectAll().executeTakeFirstOrThrow()
  t.equal(row.sent_at, null, 'the row was not marked sent')

  const relay = new OutboxRelay({ db, bus, service: 'kit' })
  t.equal(await relay.relayBatch(), 1, 'the restarted relay publishes it again')
  await settle()
  t.same(received, [{ id, name: 'crash' }], 'the consumer saw it once')
  const info = await bus.jsm.streams.info(bus.streamName(KIT_STREAM))
  t.equal(info.state.messages, 1, 'JetStream de-duplicated the second publish')
})

t.test('with NATS unreachable writes succeed, and the events flow once it returns', async (t) => {
  const infra = await testInfra()
  const proxy = await TcpProxy.start(infra.natsUrl)
  t.teardown(() => proxy.stop())
  const { db, received, prefix } = await setup(t)
  // the relay publishes through its own connection, which goes through the proxy
  const relayBus = await EventBus.connect({ url: proxy.url(infra.natsUrl), name: 'kit-relay', prefix })
  t.teardown(() => relayBus.close())
  const relay = new OutboxRelay({ db, bus: relayBus, service: 'kit', pollIntervalMs: 50 })

  await proxy.cut()
  const ids = [await createItem(db, 'while-down-1'), await createItem(db, 'while-down-2')]
  relay.start()
  t.teardown(() => relay.stop())
  await settle()
  t.same(received, [], 'nothing published while NATS is away')
  const pending = await db.selectFrom('outbox').select('id').where('sent_at', 'is', null).execute()
  t.equal(pending.length, 2, 'both events wait in the outbox')

  await proxy.restore()
  t.ok(await eventually(() => received.length >= 2), 'events arrive after NATS returns')
  await settle()
  t.same(received, ids.map((id, i) => ({ id, name: `while-down-${i + 1}` })), 'each once, in order')
})

