import client, { type Registry } from 'prom-client'
import { LATENCY_BUCKETS } from '@pulse/service-kit'

/**
 * What the ingest pipeline reports to Prometheus (the service kit's metrics.ts has the conventions).
 * `endpoint` is the call's endpoint as the code names it (`GET /helix/users`): a short fixed list,
 * never a URL with ids; `provider` is `twitch` or `twitter`.
 */
export interface IngestMetrics {
  /** One attempt of a provider call: its status (or `network` when no answer came) and duration. */
  providerCall: (endpoint: string, status: number | 'network', seconds: number) => void
  /** The budget the provider's last answer on this endpoint said was left. */
  rateLimitRemaining: (endpoint: string, remaining: number) => void
  /** One refresh request handled: stored, duplicate, failed, postponed or error (redelivered). */
  refreshHandled: (outcome: 'stored' | 'duplicate' | 'failed' | 'postponed' | 'error', seconds: number) => void
  refreshFailed: (reason: string) => void
  refreshPostponed: (reason: string) => void
}

export function createIngestMetrics (registry: Registry, provider: string): IngestMetrics {
  const registers = [registry]
  const requests = new client.Counter({
    name: 'provider_requests_total',
    help: 'Calls to the provider by endpoint and answer status (the HTTP status, or "network" when none came).',
    labelNames: ['provider', 'endpoint', 'status'],
    registers
  })
  const duration = new client.Histogram({
    name: 'provider_request_duration_seconds',
    help: 'Time one call to the provider took (each attempt).',
    labelNames: ['provider', 'endpoint'],
    buckets: LATENCY_BUCKETS,
    registers
  })
  const remaining = new client.Gauge({
    name: 'provider_rate_limit_remaining',
    help: 'The rate-limit budget the provider last reported as remaining, per endpoint.',
    labelNames: ['provider', 'endpoint'],
    registers
  })
  const refreshes = new client.Histogram({
    name: 'ingest_refresh_duration_seconds',
    help: 'Handling of one refresh request by outcome (stored, duplicate, failed, postponed, error); _count counts them.',
    labelNames: ['provider', 'outcome'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers
  })
  const failures = new client.Counter({
    name: 'ingest_refresh_failures_total',
    help: 'Refreshes that failed for good (a refresh.failed event), by reason.',
    labelNames: ['provider', 'reason'],
    registers
  })
  const postponed = new client.Counter({
    name: 'ingest_refresh_postponed_total',
    help: 'Refreshes put off for later (rate limit, provider unavailable), by reason.',
    labelNames: ['provider', 'reason'],
    registers
  })
  return {
    providerCall (endpoint, status, seconds) {
      requests.inc({ provider, endpoint, status: String(status) })
      duration.observe({ provider, endpoint }, seconds)
    },
    rateLimitRemaining (endpoint, value) { remaining.set({ provider, endpoint }, value) },
    refreshHandled (outcome, seconds) { refreshes.observe({ provider, outcome }, seconds) },
    refreshFailed (reason) { failures.inc({ provider, reason }) },
    refreshPostponed (reason) { postponed.inc({ provider, reason }) }
  }
}
