import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createServiceMetrics, statusClass, UNMATCHED_ROUTE, type ServiceMetrics } from '../metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** This process's Prometheus metrics; null when they are off (METRICS_PORT unset). */
    metrics: ServiceMetrics | null
  }
}

export interface MetricsPluginOptions {
  /** The `service` label of every series. */
  service: string
  enabled: boolean
}

/** Each app's metrics by its HTTP server, which every encapsulated context of the app shares. */
const byServer = new WeakMap<object, ServiceMetrics>()

/**
 * The metrics of the app that `app` is, or is a context of: a service registers the kit inside its
 * own (encapsulated) plugin, so the root instance that listens does not see the `metrics` decorator.
 */
export function metricsOf (app: FastifyInstance): ServiceMetrics | null {
  return byServer.get(app.server) ?? null
}

/** Counts and times every request by route pattern and status class (see ../metrics.ts). */
async function metricsPlugin (app: FastifyInstance, { service, enabled }: MetricsPluginOptions) {
  if (!enabled) {
    app.decorate('metrics', null)
    return
  }
  const metrics = createServiceMetrics(service)
  app.decorate('metrics', metrics)
  byServer.set(app.server, metrics)
  const histogram = metrics.httpDuration
  // Callback style and Fastify's own timer: no promise, no clock read of our own per request.
  app.addHook('onResponse', (request, reply, done) => {
    histogram.observe({
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status_class: statusClass(reply.statusCode)
    }, reply.elapsedTime / 1000)
    done()
  })
}

export default fp(metricsPlugin, { name: 'pulse-metrics', fastify: '5.x' })
