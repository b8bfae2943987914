import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { OutboxRelay, type OutboxRelayOptions } from '../outbox/outbox.js'

declare module 'fastify' {
  interface FastifyInstance {
    outbox: OutboxRelay
  }
}

/** Runs the outbox relay while the app runs; stops it before the pool and NATS close. */
async function outboxPlugin (app: FastifyInstance, options: Pick<OutboxRelayOptions, 'service' | 'pollIntervalMs' | 'batchSize'>) {
  const relay = new OutboxRelay({ ...options, db: app.db, bus: app.nats, log: app.log })
  app.decorate('outbox', relay)
  app.addHook('onReady', async () => { relay.start() })
  app.addHook('preClose', async () => { await relay.stop() })
}

export default fp(outboxPlugin, { name: 'pulse-outbox', fastify: '5.x', dependencies: ['pulse-database', 'pulse-nats'] })
