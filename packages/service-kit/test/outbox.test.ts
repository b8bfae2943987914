import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createTestDatabase, TcpProxy, testInfra, uniqueName, type Teardown } from '@pulse/testing'
import { EventBus, OutboxRelay, createDatabase, enqueueEvent, migrateToLatest, type OutboxTable } from '../src/index.js'
import { sql, type Generated, type Kysely } from 'kysely'
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

/**
 * Waits until the test's consumer has acknowledged everything in the stream: from then on it can
 * be handed nothing more (a redelivery is only of an unacknowledged message), so what it received
 * is final.
 */
async function consumerCaughtUp (bus: EventBus) {
  return await eventually(async () => {
    const info = await bus.jsm.consumers.info(bus.streamName(KIT_STREAM), 'kit-test')
    return info.num_pending === 0 && info.num_ack_pending === 0
  })
}

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
  t.equal((await db.selectFrom('outbox').select('id').execute()).length, 0, 'the outbox holds nothing')
  const info = await bus.jsm.streams.info(bus.streamName(KIT_STREAM))
  t.equal(info.state.messages, 0, 'the stream holds nothing, so no consumer can receive anything')
  t.same(received, [])
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
  // The killed relay's row lock lasts until Postgres notices its connection is gone (SKIP LOCKED
  // passes over the row until then).
  t.ok(await eventually(async () => await relay.relayBatch() === 1), 'the restarted relay publishes it again')
  t.ok(await consumerCaughtUp(bus))
  t.same(received, [{ id, name: 'crash' }], 'the consumer saw it once')
  const info = await bus.jsm.streams.info(bus.streamName(KIT_STREAM))
  t.equal(info.state.messages, 1, 'JetStream de-duplicated the second publish')
})

t.test('with NATS unreachable writes succeed, and the events flow once it returns', async (t) => {
  const infra = await testInfra()
  const proxy = await TcpProxy.start(infra.natsUrl)
  t.teardown(() => proxy.stop())
  const { db, bus, received, prefix } = await setup(t)
  // the relay publishes through its own connection, which goes through the proxy
  const relayBus = await EventBus.connect({ url: proxy.url(infra.natsUrl), name: 'kit-relay', prefix })
  t.teardown(() => relayBus.close())
  let failedRounds = 0
  const relay = new OutboxRelay({ db, bus: relayBus, service: 'kit', pollIntervalMs: 50, log: { warn: () => { failedRounds++ } } })

  await proxy.cut()
  const ids = [await createItem(db, 'while-down-1'), await createItem(db, 'while-down-2')]
  relay.start()
  t.teardown(() => relay.stop())
  t.ok(await eventually(() => failedRounds >= 2, 15_000), 'the relay tried, and failed, to publish')
  const info = await bus.jsm.streams.info(bus.streamName(KIT_STREAM))
  t.equal(info.state.messages, 0, 'nothing reached the stream while NATS is away')
  t.same(received, [])
  const pending = await db.selectFrom('outbox').select('id').where('sent_at', 'is', null).execute()
  t.equal(pending.length, 2, 'both events wait in the outbox')

  await proxy.restore()
  t.ok(await eventually(() => received.length >= 2), 'events arrive after NATS returns')
  t.ok(await consumerCaughtUp(bus))
  t.same(received, ids.map((id, i) => ({ id, name: `while-down-${i + 1}` })), 'each once, in order')
})


t.test('cleanup deletes rows sent longer ago than retainSentMs, and never an unsent row, however old', async (t) => {
  const { db, bus } = await setup(t)
  const HOUR = 3600 * 1000
  const ids: Record<string, number> = {}
  for (const name of ['unsent-old', 'unsent-new', 'sent-old', 'sent-recent']) ids[name] = await createItem(db, name)
  const rowOf = async (name: string) => (await db.selectFrom('outbox').select('id').where(sql`payload->>'name'`, '=', name).executeTakeFirstOrThrow()).id
  const at = async (name: string, column: 'created_at' | 'sent_at', ago: number) =>
    await sql`update outbox set ${sql.ref(column)} = now() - make_interval(secs => ${ago / 1000}) where id = ${await rowOf(name)}`.execute(db)
  await at('unsent-old', 'created_at', 48 * HOUR)
  await at('sent-old', 'created_at', 48 * HOUR)
  await at('sent-old', 'sent_at', 2 * HOUR)
  await at('sent-recent', 'sent_at', 30 * 60 * 1000)

  const relay = new OutboxRelay({ db, bus, service: 'kit', retainSentMs: HOUR })
  t.equal(await relay.deleteSent(), 1, 'one row deleted')
  const left = (await db.selectFrom('outbox').select(sql<string>`payload->>'name'`.as('name')).orderBy('id').execute()).map((r) => r.name)
  t.same(left, ['unsent-old', 'unsent-new', 'sent-recent'], 'the unsent rows and the recently sent one stay')
  t.equal(await new OutboxRelay({ db, bus, service: 'kit', retainSentMs: 0 }).deleteSent(), 1, 'with no retention every sent row goes…')
  t.same((await db.selectFrom('outbox').select('sent_at').execute()).map((r) => r.sent_at), [null, null], '…and still no unsent one')
  t.ok(ids['unsent-old'] !== undefined)
})

t.test('a publish failing in the middle of a batch: what was acknowledged is marked sent, the rest is published once later', async (t) => {
  const { db, bus, received } = await setup(t)
  const ids: number[] = []
  for (let i = 1; i <= 5; i++) ids.push(await createItem(db, `item-${i}`))
  const published: string[] = []
  let failOn: string | undefined = `kit:outbox:${ids[2]!}`
  // The real bus, with NATS refusing the third message of the batch.
  const flaky = {
    publishRaw: async (subject: string, payload: unknown, options: { msgID?: string }) => {
      if (options.msgID === failOn) throw new Error('publish timed out')
      await bus.publishRaw(subject, payload, options)
      published.push(options.msgID!)
    }
  } as unknown as EventBus
  const relay = new OutboxRelay({ db, bus: flaky, service: 'kit' })
  t.equal(await relay.relayBatch(), 2, 'the two acknowledged before the failure count as sent')
  const unsent = (await db.selectFrom('outbox').select('id').where('sent_at', 'is', null).orderBy('id').execute()).map((r) => r.id)
  t.same(unsent, ids.slice(2), 'the failed one and those after it wait')

  failOn = undefined
  t.equal(await relay.relayBatch(), 3, 'the next batch sends only what was not acknowledged')
  t.same(published, ids.map((id) => `kit:outbox:${id}`), 'each row published once, in order')
  t.ok(await eventually(() => received.length === 5))
  t.ok(await consumerCaughtUp(bus))
  t.same(received, ids.map((id, i) => ({ id, name: `item-${i + 1}` })), 'the consumer saw each once, in order')
})
