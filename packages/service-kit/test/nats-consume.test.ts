import t from 'tap'
import { eventually, testInfra, uniqueName, type Teardown } from '@pulse/testing'
import { EventBus } from '../src/index.js'
import { ItemCreatedV1, KIT_STREAM } from './fixtures/events.js'

/** Six events to a fresh consumer whose handler takes 150 ms; how many ran at once, and were all handled once. */
async function run (t: Teardown, concurrency?: number) {
  const infra = await testInfra()
  const bus = await EventBus.connect({ url: infra.natsUrl, name: 'kit-consume-test', prefix: uniqueName('kitc'), streams: [KIT_STREAM] })
  t.teardown(async () => {
    await bus.jsm.streams.delete(bus.streamName(KIT_STREAM)).catch(() => {})
    await bus.close()
  })
  for (let id = 1; id <= 6; id++) await bus.publish(ItemCreatedV1, { id, name: `item ${id}` })
  let running = 0
  let most = 0
  const handled: number[] = []
  await bus.consume([ItemCreatedV1], { durable: 'kit-consume', stream: KIT_STREAM, ...(concurrency !== undefined ? { concurrency } : {}) }, async (payload) => {
    running++
    most = Math.max(most, running)
    await new Promise((resolve) => setTimeout(resolve, 150))
    running--
    handled.push((payload as { id: number }).id)
  })
  const end = Date.now() + 15_000
  while (handled.length < 6 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20))
  // Every message acknowledged: only an unacknowledged one could be handed out again, so nothing is
  // handled twice after this.
  await eventually(async () => {
    const info = await bus.jsm.consumers.info(bus.streamName(KIT_STREAM), 'kit-consume')
    return info.num_pending === 0 && info.num_ack_pending === 0
  }, 15_000)
  return { most, handled }
}

t.test('by default a replica handles its messages one after another, in stream order', async (t) => {
  const { most, handled } = await run(t)
  t.equal(most, 1)
  t.same(handled, [1, 2, 3, 4, 5, 6])
})

t.test('with concurrency, up to that many at once, each message once', async (t) => {
  const { most, handled } = await run(t, 3)
  t.equal(most, 3, 'three handlers ran at once, never more')
  t.same([...handled].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6], 'every message handled once')
})

t.test('with concurrency, a replica takes only the messages it runs: the rest wait for any replica', async (t) => {
  const infra = await testInfra()
  const bus = await EventBus.connect({ url: infra.natsUrl, name: 'kit-consume-test', prefix: uniqueName('kitc'), streams: [KIT_STREAM] })
  t.teardown(async () => {
    await bus.jsm.streams.delete(bus.streamName(KIT_STREAM)).catch(() => {})
    await bus.close()
  })
  for (let id = 1; id <= 20; id++) await bus.publish(ItemCreatedV1, { id, name: `item ${id}` })
  let running = 0
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  await bus.consume([ItemCreatedV1], { durable: 'kit-consume-prefetch', stream: KIT_STREAM, concurrency: 3 }, async () => {
    running++
    await released
  })
  t.ok(await eventually(() => running === 3, 10_000), 'three handlers running')
  // Delivered and not acknowledged: the three running and the few the client pulls ahead of them
  // (64 pulled at once would have taken all 20).
  const info = await bus.jsm.consumers.info(bus.streamName(KIT_STREAM), 'kit-consume-prefetch')
  t.ok(info.num_ack_pending <= 6, `the replica holds ${info.num_ack_pending} of the 20`)
  t.ok(info.num_pending >= 14, `${info.num_pending} still in the stream for any replica`)
  release()
})
