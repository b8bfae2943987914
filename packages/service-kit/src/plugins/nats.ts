import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { EventBus, type EventBusOptions } from '../nats.js'

declare module 'fastify' {
  interface FastifyInstance {
    nats: EventBus
  }
}

/** NATS + JetStream for this service: streams declared, checked by /ready, drained on close. */
async function natsPlugin (app: FastifyInstance, options: Omit<EventBusOptions, 'log'>) {
  const bus = await EventBus.connect({ ...options, log: app.log, metrics: app.metrics })
  app.decorate('nats', bus)
  app.readiness.set('nats', () => bus.ping())
  app.readinessDetails.set('deadLettered', () => Object.fromEntries(bus.deadLettered))
  app.addHook('onClose', async () => { await bus.close() })
}

export default fp(natsPlugin, { name: 'pulse-nats', fastify: '5.x', dependencies: ['pulse-health', 'pulse-metrics'] })
