import client from 'prom-client'
import { LATENCY_BUCKETS, statusClass, type ServiceMetrics } from '@pulse/service-kit'

/** The gateway's own Prometheus families (the kit's metrics.ts has the conventions); null when metrics are off. */
export interface GatewayMetrics {
  /** From sending the request upstream to the upstream's answer headers (`status_class` `error`: none came). */
  upstreamDuration: client.Histogram<'upstream' | 'status_class'>
  rateLimited: client.Counter<'subject'>
  openStreams: client.Gauge<never>
}

const created = new WeakMap<ServiceMetrics, GatewayMetrics>()

/** `undefined` when the routes are mounted on an app without the kit's metrics decoration (some tests do that). */
export function gatewayMetricsOf (metrics: ServiceMetrics | null | undefined): GatewayMetrics | null {
  if (metrics == null) return null
  let mine = created.get(metrics)
  if (mine === undefined) {
    const registers = [metrics.registry]
    mine = {
      upstreamDuration: new client.Histogram({
        name: 'gateway_upstream_request_duration_seconds',
        help: 'Time an upstream service took to answer a proxied request, by upstream and status class (error: no answer).',
        labelNames: ['upstream', 'status_class'],
        buckets: LATENCY_BUCKETS,
        registers
      }),
      rateLimited: new client.Counter({
        name: 'gateway_rate_limited_requests_total',
        help: 'Requests refused with 429 by the gateway\'s rate limit, by whose budget was spent (user, address, webhook).',
        labelNames: ['subject'],
        registers
      }),
      openStreams: new client.Gauge({ name: 'gateway_sse_open_streams', help: 'Open /events streams on this replica.', registers })
    }
    created.set(metrics, mine)
  }
  return mine
}

export { statusClass }
