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
  // Every metric here is per provider, then by its own labels.
  const registers = [registry]
  const counter = (name: string, help: string, ...labels: string[]) => new client.Counter({ name, help, labelNames: ['provider', ...labels], registers })
  const gauge = (name: string, help: string, ...labels: string[]) => new client.Gauge({ name, help, labelNames: ['provider', ...labels], registers })
  const histogram = (name: string, help: string, buckets: number[], ...labels: string[]) => new client.Histogram({ name, help, buckets, labelNames: ['provider', ...labels], registers })

  const requests = counter('provider_requests_total',
    'Calls to the provider by endpoint and answer status (the HTTP status, or "network" when none came).', 'endpoint', 'status')
  const duration = histogram('provider_request_duration_seconds', 'Time one call to the provider took (each attempt).', LATENCY_BUCKETS, 'endpoint')
  const remaining = gauge('provider_rate_limit_remaining', 'The rate-limit budget the provider last reported as remaining, per endpoint.', 'endpoint')
  const refreshes = histogram('ingest_refresh_duration_seconds',
    'Handling of one refresh request by outcome (stored, duplicate, failed, postponed, error); _count counts them.',
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], 'outcome')
  const failures = counter('ingest_refresh_failures_total', 'Refreshes that failed for good (a refresh.failed event), by reason.', 'reason')
  const postponed = counter('ingest_refresh_postponed_total', 'Refreshes put off for later (rate limit, provider unavailable), by reason.', 'reason')
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
