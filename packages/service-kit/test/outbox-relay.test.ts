import { createTestDatabase, eventually, testInfra, uniqueName } from '@pulse/testing'
import { sql, type Generated } from 'kysely'
import t from 'tap'
import { createDatabase, migrateToLatest } from '../src/database.js'
import { EventBus } from '../src/nats.js'
import { OutboxRelay, enqueueEvent, type OutboxTable } from '../src/outbox/outbox.js'
import { ItemCreatedV1, KIT_STREAM, MIGRATIONS } from './fixtures/events.js'

// The outbox and its relay on their own, against the real Postgres and JetStream, one database and
// one stream for the file, emptied before each test: what is published, in which order, with which
// message id, what is marked sent, what a failure leaves, and how the relay's loop paces itself.
// (test/outbox.test.ts shows crashes and NATS outages.)

interface DB extends OutboxTable { items: { id: Generated<number>, name: string } }
const SCHEMA = 'kit'
const infra = await testInfra()
const databaseUrl = await createTestDatabase(t)
await migrateToLatest({ url: databaseUrl, schema: SCHEMA, folder: MIGRATIONS })
const db = createDatabase<DB>({ url: databaseUrl, schema: SCHEMA })
const bus = await EventBus.connect({ url: infra.natsUrl, name: 'outbox-relay-test', prefix: uniqueName('relay'), streams: [KIT_STREAM] })
const streamName = bus.streamName(KIT_STREAM)
t.teardown(async () => {
  await bus.jsm.streams.delete(streamName).catch(() => {})
  await bus.close()
  await db.destroy()
})
/** The relay's service name: a new one for every test, since JetStream remembers message ids for two minutes. */
let service = ''
t.beforeEach(async () => {
  await sql`truncate outbox restart identity`.execute(db)
  await bus.jsm.streams.purge(streamName)
  service = uniqueName('svc')
})

/** The messages in the stream, oldest first: subject (without the prefix), message id, payload. */
async function published () {
  const info = await bus.jsm.streams.info(streamName)
  const out: { subject: string, msgID: string | undefined, payload: unknown }[] = []
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const m = await bus.jsm.streams.getMessage(streamName, { seq })
    if (m === null) throw new Error(`no message at ${seq}`)
    out.push({ subject: m.subject.slice(m.subject.indexOf('.') + 1), msgID: m.header?.get('Nats-Msg-Id'), payload: m.json() })
  }
  return out
}
const enqueue = async (id: number, name = `item-${id}`) => { await enqueueEvent(db, ItemCreatedV1, { id, name }) }
/** A row no stream listens to: publishing it fails (JetStream answers "no responders"). */
const enqueueUndeliverable = async () => { await db.insertInto('outbox').values({ subject: 'nowhere.v1', payload: JSON.stringify({ lost: true }) }).execute() }
const unsent = async () => (await db.selectFrom('outbox').select('id').where('sent_at', 'is', null).orderBy('id').execute()).map((r) => r.id)
const rows = async () => await db.selectFrom('outbox').selectAll().orderBy('id').execute()

t.test('an event is written with its subject and payload, and only if it keeps its contract', async (t) => {
  await enqueue(1, 'one')
  t.match(await rows(), [{ id: 1, subject: 'kit.item.created.v1', payload: { id: 1, name: 'one' }, sent_at: null }])
  t.ok((await rows())[0]!.created_at instanceof Date)
  await t.rejects(enqueueEvent(db, ItemCreatedV1, { id: 'two' } as never), /does not match its contract/)
  t.equal((await rows()).length, 1, 'nothing written for it')
})

t.test('a batch publishes unsent rows in id order, with the row id in the message id, and marks them sent', async (t) => {
  for (const id of [1, 2, 3]) await enqueue(id)
  const relay = new OutboxRelay({ db, bus, service })
  t.equal(await relay.relayBatch(), 3)
  t.same(await published(), [1, 2, 3].map((id) => ({ subject: 'kit.item.created.v1', msgID: `${service}:outbox:${id}`, payload: { id, name: `item-${id}` } })))
  t.same(await unsent(), [])
  for (const row of await rows()) t.ok(row.sent_at instanceof Date && Math.abs(row.sent_at.getTime() - Date.now()) < 60_000, 'sent now')
  t.equal(await relay.relayBatch(), 0, 'nothing is sent twice')
  t.equal((await published()).length, 3)
})

t.test('a batch is at most batchSize rows, oldest first', async (t) => {
  for (const id of [1, 2, 3, 4, 5]) await enqueue(id)
  const relay = new OutboxRelay({ db, bus, service, batchSize: 2 })
  t.equal(await relay.relayBatch(), 2)
  t.same(await unsent(), [3, 4, 5])
  t.equal(await relay.relayBatch(), 2)
  t.equal(await relay.relayBatch(), 1)
  t.same((await published()).map((m) => m.msgID), [1, 2, 3, 4, 5].map((id) => `${service}:outbox:${id}`))
  t.equal(await new OutboxRelay({ db, bus, service }).relayBatch(), 0)
  await db.insertInto('outbox').values(Array.from({ length: 101 }, (_, i) => ({ subject: ItemCreatedV1.subject, payload: JSON.stringify({ id: i + 6, name: 'bulk' }) }))).execute()
  t.equal(await new OutboxRelay({ db, bus, service }).relayBatch(), 100, '100 by default')
})

t.test('a publish that fails stops the batch there: the rows before it are sent, it and the rest wait', async (t) => {
  await enqueue(1)
  await enqueueUndeliverable()
  await enqueue(3)
  const relay = new OutboxRelay({ db, bus, service })
  t.equal(await relay.relayBatch(), 1)
  t.same(await unsent(), [2, 3])
  t.same((await published()).map((m) => m.msgID), [`${service}:outbox:1`])
  await t.rejects(relay.relayBatch(), 'when the first row fails, the batch fails')
  t.same(await unsent(), [2, 3], 'and nothing is marked')
  t.equal((await published()).length, 1)
})

t.test('a row is published before it is marked sent, and rows another relay holds are skipped', async (t) => {
  for (const id of [1, 2]) await enqueue(id)
  const seenUnsent: boolean[] = []
  const relay = new OutboxRelay({
    db, bus, service, afterPublish: async (id) => { seenUnsent.push((await unsent()).includes(id)) }
  })
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  let locked: () => void = () => {}
  const isLocked = new Promise<void>((resolve) => { locked = resolve })
  const holder = db.transaction().execute(async (trx) => {
    await trx.selectFrom('outbox').select('id').where('id', '=', 1).forUpdate().execute()
    locked()
    await released
  })
  await isLocked
  t.equal(await relay.relayBatch(), 1, 'the row held elsewhere is skipped, not waited for')
  t.same((await published()).map((m) => m.msgID), [`${service}:outbox:2`])
  release()
  await holder
  t.equal(await relay.relayBatch(), 1)
  t.same(seenUnsent, [true, true], 'each row was still unsent when its event had gone out')
})

t.test('a started relay publishes at its poll interval, at once when woken, and stops when told', async (t) => {
  const relay = new OutboxRelay({ db, bus, service, pollIntervalMs: 60_000 })
  await enqueue(1)
  relay.start()
  relay.start()
  t.ok(await eventually(async () => (await unsent()).length === 0, 5000), 'the first round runs at start')
  await enqueue(2)
  const woken = Date.now()
  relay.wake()
  t.ok(await eventually(async () => (await unsent()).length === 0, 5000), 'woken, it publishes at once')
  t.ok(Date.now() - woken < 30_000)
  await relay.stop()
  await enqueue(3)
  relay.wake()
  t.same((await published()).map((m) => m.msgID), [`${service}:outbox:1`, `${service}:outbox:2`], 'each once, even with two start() calls')
  const polling = new OutboxRelay({ db, bus, service, pollIntervalMs: 50 })
  polling.start()
  t.ok(await eventually(async () => (await unsent()).length === 0, 5000), 'another relay polls it out')
  await enqueue(4)
  t.ok(await eventually(async () => (await unsent()).length === 0, 5000), 'and the next row at the next poll, unwoken')
  await polling.stop()
  await polling.stop()
  await enqueue(5)
  // Nothing may happen now: 10 poll intervals of the stopped relay (and it was awaited to its end).
  await new Promise((resolve) => setTimeout(resolve, 10 * 50))
  t.same(await unsent(), [5], 'a stopped relay publishes nothing')
})

t.test('a full batch is followed by the next one at once, not after a poll interval', async (t) => {
  for (let id = 1; id <= 7; id++) await enqueue(id)
  const relay = new OutboxRelay({ db, bus, service, batchSize: 2, pollIntervalMs: 60_000 })
  relay.start()
  t.teardown(() => relay.stop())
  t.ok(await eventually(async () => (await unsent()).length === 0, 10_000), 'all four batches in one go')
})

t.test('after failures the relay backs off, doubling from the poll interval, and starts over after a success', async (t) => {
  await enqueueUndeliverable()
  const warnings: { failures: number, at: number }[] = []
  const relay = new OutboxRelay({
    db, bus, service, pollIntervalMs: 100, log: { warn: (obj) => { warnings.push({ failures: (obj as { failures: number }).failures, at: Date.now() }) } }
  })
  relay.start()
  t.teardown(() => relay.stop())
  t.ok(await eventually(() => warnings.length >= 3, 5000), 'each failed round is logged')
  t.same(warnings.slice(0, 3).map((w) => w.failures), [1, 2, 3], 'with the failures so far')
  t.ok(warnings[1]!.at - warnings[0]!.at >= 190, `2 × the poll interval after the first (${warnings[1]!.at - warnings[0]!.at} ms)`)
  t.ok(warnings[2]!.at - warnings[1]!.at >= 390, `4 × after the second (${warnings[2]!.at - warnings[1]!.at} ms)`)
  await db.deleteFrom('outbox').execute()
  await enqueue(2)
  t.ok(await eventually(async () => (await unsent()).length === 0, 10_000), 'the next row goes once the bad one is gone')
  const before = warnings.length
  await enqueueUndeliverable()
  relay.wake()
  t.ok(await eventually(() => warnings.length > before, 5000))
  t.equal(warnings[before]!.failures, 1, 'counting starts over after a success')
})

t.test('sent rows older than retainSentMs are deleted, unsent ones never; the relay does so at its first round', async (t) => {
  const HOUR = 3600 * 1000
  for (const id of [1, 2, 3, 4]) await enqueue(id)
  await db.updateTable('outbox').set({ sent_at: sql<Date>`now() - interval '2 hours'` }).where('id', '=', 1).execute()
  await db.updateTable('outbox').set({ sent_at: sql<Date>`now() - interval '30 minutes'` }).where('id', '=', 2).execute()
  await sql`update outbox set created_at = now() - interval '48 hours' where id = 3`.execute(db)
  const relay = new OutboxRelay({ db, bus, service, retainSentMs: HOUR })
  t.equal(await relay.deleteSent(), 1)
  t.same((await rows()).map((r) => r.id), [2, 3, 4])
  t.equal(await relay.deleteSent(Date.now() + 31 * 60 * 1000), 1, 'as of a later time, the next one is old enough')
  t.same((await rows()).map((r) => r.id), [3, 4])
  t.equal(await relay.deleteSent(Date.now() + 1000 * HOUR), 0, 'unsent rows stay however old')
  await db.updateTable('outbox').set({ sent_at: sql<Date>`now() - interval '2 days'` }).where('id', '=', 3).execute()
  t.equal(await new OutboxRelay({ db, bus, service }).deleteSent(), 1, 'a day by default')
  await db.updateTable('outbox').set({ sent_at: sql<Date>`now() - interval '23 hours'` }).where('id', '=', 4).execute()
  t.equal(await new OutboxRelay({ db, bus, service }).deleteSent(), 0)

  await db.deleteFrom('outbox').execute()
  await enqueue(5)
  await db.updateTable('outbox').set({ sent_at: sql<Date>`now() - interval '2 hours'` }).where('id', '=', 5).execute()
  const running = new OutboxRelay({ db, bus, service, retainSentMs: HOUR, pollIntervalMs: 50 })
  running.start()
  t.teardown(() => running.stop())
  t.ok(await eventually(async () => (await rows()).length === 0, 5000), 'a started relay cleans up at once')
  await enqueue(6)
  await db.updateTable('outbox').set({ sent_at: sql<Date>`now() - interval '2 hours'` }).where('id', '=', 6).execute()
  // Nothing may happen now: at most once a minute; 10 rounds of 50 ms must leave the row alone.
  await new Promise((resolve) => setTimeout(resolve, 10 * 50))
  t.same((await rows()).map((r) => r.id), [6], 'and not again within the minute')
})
