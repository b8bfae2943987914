import t from 'tap'
import type { Kysely, Generated } from 'kysely'
import { createTestDatabase, eventually, NatsCluster, settle, uniqueName } from '@pulse/testing'
import { CONSUMER_PULL_EXPIRES_MS, EventBus, OutboxRelay, createDatabase, enqueueEvent, migrateToLatest, type OutboxTable } from '../src/index.js'
import { ItemCreatedV1, KIT_STREAM, MIGRATIONS } from './fixtures/events.js'

// A JetStream cluster of three servers of this test's own, with events written through the outbox,
// published by the relay and handled by a durable consumer, while the stream's leader is killed -9
// and started again. Every client is given the three URLs, as NATS_URL lists them.

interface DB extends OutboxTable { items: { id: Generated<number>, name: string } }
const SCHEMA = 'kit'
const DURABLE = 'kit-cluster'
/** The consumer's ack wait in this test: an unacknowledged delivery comes back after it. */
const ACK_WAIT_MS = 2000
/**
 * How long the consumer may stall when a server dies: JetStream elects new stream and consumer
 * leaders within a few seconds (its Raft election timeouts; 15 s allowed here on a shared machine),
 * and a pull request the client left with the dead server is renewed once the server's heartbeats
 * have stopped, within 1.5 pull expiries (CONSUMER_PULL_EXPIRES_MS); two expiries are allowed.
 */
const CONTINUE_BOUND_MS = 2 * CONSUMER_PULL_EXPIRES_MS + 15_000
const BATCH = 20

const cluster = await NatsCluster.start(t)
const databaseUrl = await createTestDatabase(t)
await migrateToLatest({ url: databaseUrl, schema: SCHEMA, folder: MIGRATIONS })
const db = createDatabase<DB>({ url: databaseUrl, schema: SCHEMA })
t.teardown(async () => { await db.destroy() })
const prefix = uniqueName('kit')
const buses: EventBus[] = []
t.teardown(async () => { for (const bus of buses.reverse()) await bus.close() })
const connect = async (name: string, streamReplicas: number, streams = [KIT_STREAM]) => {
  const bus = await EventBus.connect({ url: cluster.url, name, prefix, streams, streamReplicas })
  buses.push(bus)
  return bus
}
const stream = `${prefix}_${KIT_STREAM.name}`
/** The relay's connection, as a service started with NATS_STREAM_REPLICAS=3 has it (both tests use the same one). */
let relayBusStarted: Promise<EventBus> | undefined
const relayConnection = async () => await (relayBusStarted ??= connect('kit-cluster-relay', 3))

/** Writes items and their events in one transaction each, as a service does; answers their ids. */
async function createItems (kysely: Kysely<DB>, count: number, label: string): Promise<number[]> {
  const ids: number[] = []
  for (let i = 0; i < count; i++) {
    ids.push(await kysely.transaction().execute(async (trx) => {
      const { id } = await trx.insertInto('items').values({ name: `${label}-${i}` }).returning('id').executeTakeFirstOrThrow()
      await enqueueEvent(trx, ItemCreatedV1, { id, name: `${label}-${i}` })
      return id
    }))
  }
  return ids
}

/** The stream's info as any live server gives it, or undefined while none can (an election). */
const streamInfo = async (bus: EventBus) => await bus.jsm.streams.info(stream).catch(() => undefined)

t.test('a stream declared with one replica is brought to NATS_STREAM_REPLICAS when a service starts with 3', async (t) => {
  // The cluster's JetStream answers once its servers have elected a meta leader.
  const setup = await connect('kit-cluster-setup', 1, [])
  t.ok(await eventually(async () => await setup.ensureStream(KIT_STREAM).then(() => true, () => false), 30_000), 'the stream is created with one replica')
  t.equal((await setup.jsm.streams.info(stream)).config.num_replicas, 1)

  const relayBus = await relayConnection()
  const info = await relayBus.jsm.streams.info(stream)
  t.equal(info.config.num_replicas, 3, 'the start of a service with NATS_STREAM_REPLICAS=3 updated it')
  t.ok(await eventually(async () => {
    const replicas = (await streamInfo(relayBus))?.cluster?.replicas ?? []
    return replicas.length === 2 && replicas.every((r) => r.current)
  }, 30_000), 'the stream has its leader and two current replicas, one on each server')
})

t.test('kill -9 of the stream leader: no acknowledged event lost, none handled twice, the consumer continues, the server catches up after its restart', async (t) => {
  const relayBus = await relayConnection()
  const consumerBus = await connect('kit-cluster-consumer', 3)
  const handled = new Map<number, number>()
  await consumerBus.consume([ItemCreatedV1], { durable: DURABLE, stream: KIT_STREAM, ackWaitMs: ACK_WAIT_MS }, async (payload) => {
    const { id } = payload as { id: number }
    handled.set(id, (handled.get(id) ?? 0) + 1)
  })
  const relay = new OutboxRelay({ db, bus: relayBus, service: 'kit', pollIntervalMs: 50 })
  relay.start()
  t.teardown(() => relay.stop())
  const allHandled = (ids: number[]) => ids.every((id) => handled.has(id))

  const acknowledged = await createItems(db, BATCH, 'before')
  t.ok(await eventually(() => allHandled(acknowledged), 30_000), 'events flow through the outbox, the relay and the consumer')

  const before = await relayBus.jsm.streams.info(stream)
  const leader = before.cluster?.leader
  if (leader === undefined) throw new Error('the stream has no leader')
  const consumerLeader = (await relayBus.jsm.consumers.info(stream, DURABLE)).cluster?.leader
  t.comment(`stream leader ${leader}, consumer leader ${consumerLeader ?? 'none'}`)
  const victim = cluster.indexOf(leader)

  await cluster.kill(victim)
  const killedAt = Date.now()
  // Written while the leader is gone: the writes commit (they need Postgres only); the outbox keeps their events.
  acknowledged.push(...await createItems(db, BATCH, 'leader-down'))
  const elected = await eventually(async () => {
    const now = (await streamInfo(relayBus))?.cluster?.leader
    return now !== undefined && now !== leader
  }, 30_000)
  t.ok(elected, 'another server leads the stream')
  acknowledged.push(...await createItems(db, BATCH, 'new-leader'))
  t.ok(await eventually(() => allHandled(acknowledged), CONTINUE_BOUND_MS), `the consumer handled every event within ${CONTINUE_BOUND_MS} ms of the crash`)
  t.comment(`every event handled ${Date.now() - killedAt} ms after the crash`)

  await cluster.start(victim)
  acknowledged.push(...await createItems(db, BATCH, 'restarted'))
  t.ok(await eventually(() => allHandled(acknowledged), CONTINUE_BOUND_MS), 'events keep flowing with the server back')
  const caughtUp = await eventually(async () => {
    const info = await streamInfo(relayBus)
    if (info?.cluster === undefined) return false
    if (info.cluster.leader === leader) return info.state.messages === acknowledged.length
    const replica = info.cluster.replicas?.find((r) => r.name === leader)
    // lag and offline are left out of the server's answer when 0 and false
    return replica !== undefined && replica.current && replica.offline !== true && (replica.lag ?? 0) === 0
  }, 60_000)
  t.ok(caughtUp, `the restarted server ${leader} is current again`)

  const info = await relayBus.jsm.streams.info(stream)
  t.equal(info.state.messages, acknowledged.length, 'the stream holds each event once: re-publishes across the failover were de-duplicated')
  t.ok(await eventually(async () => {
    const consumer = await relayBus.jsm.consumers.info(stream, DURABLE).catch(() => undefined)
    return consumer !== undefined && consumer.num_pending === 0 && consumer.num_ack_pending === 0
  }, 30_000), 'the consumer has acknowledged everything')
  // A delivery whose acknowledgement was lost comes back after the ack wait: wait twice that for one.
  await settle(2 * ACK_WAIT_MS)
  t.same([...acknowledged].sort((a, b) => a - b), [...handled.keys()].sort((a, b) => a - b), 'every acknowledged event was handled, and nothing else')
  t.same([...handled].filter(([, n]) => n !== 1), [], 'none was handled twice')
})
