import Fastify from 'fastify'
import t from 'tap'
import { eventually, testInfra, uniqueName, type Teardown } from '@pulse/testing'
import { DEAD_LETTER_HEADERS, DEAD_LETTER_STREAM, EventBus, createServerOptions, natsPlugin, servicePlugin } from '../src/index.js'
import { ItemCreatedV1, KIT_STREAM } from './fixtures/events.js'

const MAX_DELIVER = 3

/** A service with the kit's NATS plugin and a consumer whose handler fails for the item named "poison". */
async function start (t: Teardown) {
  const infra = await testInfra()
  const prefix = uniqueName('kitdl')
  const logged: Record<string, unknown>[] = []
  const stream = { write: (line: string) => { logged.push(JSON.parse(line) as Record<string, unknown>) } }
  const app = Fastify(createServerOptions({ LOG_LEVEL: 'info', REQUEST_TIMEOUT_MS: 10_000, BODY_LIMIT_BYTES: 10_000 }, { logger: { level: 'info', stream } }))
  await app.register(servicePlugin, { prefix: 'EXAMPLE', audience: 'example', identitySecrets: ['a-test-identity-secret-of-at-least-32-chars'] })
  await app.register(natsPlugin, { url: infra.natsUrl, name: 'kit-dead-letter-test', prefix, streams: [KIT_STREAM], maxDeliver: MAX_DELIVER })
  const attempts = new Map<string, number>()
  const handled: string[] = []
  await app.nats.consume([ItemCreatedV1], { durable: 'kit-dl', stream: KIT_STREAM }, async (payload) => {
    const { name } = payload as { name: string }
    attempts.set(name, (attempts.get(name) ?? 0) + 1)
    if (name === 'poison') throw new Error('cannot handle this one')
    handled.push(name)
  })
  const bus = app.nats
  t.teardown(async () => {
    await bus.jsm.streams.delete(bus.streamName(KIT_STREAM)).catch(() => {})
    await bus.jsm.streams.delete(bus.streamName(DEAD_LETTER_STREAM)).catch(() => {})
    await app.close()
  })
  return { app, bus, attempts, handled, logged }
}

t.test('an event that keeps failing is delivered NATS_MAX_DELIVER times, then moved to the dead-letter stream, logged once and counted on /ready', async (t) => {
  const { app, bus, attempts, handled, logged } = await start(t)
  await bus.publish(ItemCreatedV1, { id: 1, name: 'poison' }, { msgID: 'poison-1' })
  await bus.publish(ItemCreatedV1, { id: 2, name: 'fine' })

  const deadStream = bus.streamName(DEAD_LETTER_STREAM)
  t.ok(await eventually(async () => (await bus.jsm.streams.info(deadStream)).state.messages === 1, 60_000), 'one message in the dead-letter stream')
  t.equal(attempts.get('poison'), MAX_DELIVER, 'handled exactly NATS_MAX_DELIVER times')
  t.ok(await eventually(() => handled.includes('fine'), 10_000), 'the next event is handled: the poison does not block the consumer')

  const dead = await bus.jsm.streams.getMessage(deadStream, { seq: (await bus.jsm.streams.info(deadStream)).state.first_seq })
  if (dead === null) throw new Error('the dead letter is not in its stream')
  t.same(dead.json(), { id: 1, name: 'poison' }, 'the original payload')
  t.equal(dead.subject, bus.subject(`dead-letter.${bus.streamName(KIT_STREAM)}.kit-dl`))
  t.equal(dead.header.get(DEAD_LETTER_HEADERS.subject), bus.subject(ItemCreatedV1.subject), 'with its subject')
  t.equal(dead.header.get(DEAD_LETTER_HEADERS.consumer), 'kit-dl')
  t.equal(dead.header.get(DEAD_LETTER_HEADERS.deliveries), String(MAX_DELIVER))
  t.match(dead.header.get(DEAD_LETTER_HEADERS.reason), /cannot handle this one/)
  t.equal(dead.header.get('Pulse-Dead-Msg-Id'), 'poison-1', 'and its message id')

  const lines = logged.filter((l) => l.msg === 'event moved to the dead-letter stream')
  t.equal(lines.length, 1, 'logged once')
  t.match(lines[0], { level: 50, subject: bus.subject(ItemCreatedV1.subject), msgId: 'poison-1', durable: 'kit-dl' })

  const ready = await app.inject({ url: '/ready' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json().details, { deadLettered: { 'kit-dl': 1 } }, 'counted where operators look')

  // Nothing more happens to it: the bound holds (waits past several redelivery delays of the kit).
  const before = attempts.get('poison')
  await new Promise((resolve) => setTimeout(resolve, 3000))
  t.equal(attempts.get('poison'), before, 'never delivered again')
  t.equal((await bus.jsm.streams.info(deadStream)).state.messages, 1)
})

t.test('a message never acknowledged (its handler outlives ack_wait every time) also ends in the dead-letter stream', async (t) => {
  const infra = await testInfra()
  const bus = await EventBus.connect({ url: infra.natsUrl, name: 'kit-dead-letter-test', prefix: uniqueName('kitdl'), streams: [KIT_STREAM], maxDeliver: 2 })
  t.teardown(async () => {
    await bus.jsm.streams.delete(bus.streamName(KIT_STREAM)).catch(() => {})
    await bus.jsm.streams.delete(bus.streamName(DEAD_LETTER_STREAM)).catch(() => {})
    await bus.close()
  })
  let calls = 0
  await bus.consume([ItemCreatedV1], { durable: 'kit-stuck', stream: KIT_STREAM, ackWaitMs: 1000, concurrency: 4 }, async () => {
    calls++
    await new Promise(() => {}) // stuck for good
  })
  await bus.publish(ItemCreatedV1, { id: 1, name: 'stuck' })
  t.ok(await eventually(async () => (await bus.jsm.streams.info(bus.streamName(DEAD_LETTER_STREAM))).state.messages === 1, 60_000), 'moved to the dead letters')
  t.equal(calls, 2, 'the handler ran maxDeliver times')
  t.same(Object.fromEntries(bus.deadLettered), { 'kit-stuck': 1 })
})
