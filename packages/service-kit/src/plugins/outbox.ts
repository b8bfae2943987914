import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'
import { OutboxRelay, outboxBacklog, type OutboxRelayOptions } from '../outbox/outbox.js'

declare module 'fastify' {
  interface FastifyInstance {
    outbox: OutboxRelay
  }
}

/** Runs the outbox relay while the app runs; stops it before the pool and NATS close. */
async function outboxPlugin (app: FastifyInstance, options: Pick<OutboxRelayOptions, 'service' | 'pollIntervalMs' | 'batchSize'>) {
  const relay = new OutboxRelay({ ...options, db: app.db, bus: app.nats, log: app.log })
  app.decorate('outbox', relay)
  if (app.metrics !== null) {
    // Read at scrape time, one indexed query for both (the partial index on unsent rows).
    let backlog: Promise<{ unsent: number, oldestAgeSeconds: number }> | undefined
    const read = () => (backlog ??= outboxBacklog(app.db).finally(() => { backlog = undefined }))
    const registers = [app.metrics.registry]
    new Gauge({ name: 'outbox_unsent_events', help: 'Events written to the outbox and not yet published.', registers, async collect () { this.set((await read()).unsent) } })
    new Gauge({ name: 'outbox_oldest_unsent_age_seconds', help: 'Age of the oldest unpublished outbox event (0: none).', registers, async collect () { this.set((await read()).oldestAgeSeconds) } })
  }
  app.addHook('onReady', async () => { relay.start() })
  app.addHook('preClose', async () => { await relay.stop() })
}

export default fp(outboxPlugin, { name: 'pulse-outbox', fastify: '5.x', dependencies: ['pulse-database', 'pulse-nats'] })
