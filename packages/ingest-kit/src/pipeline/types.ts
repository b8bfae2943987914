import type { IngestMetrics } from '../metrics.js'
import type { EventPayload, ProviderName, TwitchRefreshFailedV1, TwitchRefreshRequestedV1, TwitchRefreshedV1 } from '@pulse/contracts'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Kysely, Transaction } from 'kysely'
import type { Clock } from '../clock.js'
import type { IngestDatabase, TrackedAccount } from '../db.js'
import type { ManualRefreshClaim } from '../repositories.js'
import type { ProviderSession } from '../session.js'

export type { ProviderName } from '@pulse/contracts'
/** The three metrics contracts of one provider (both providers' payloads have the same shape). */
export interface MetricsContracts {
  requested: typeof TwitchRefreshRequestedV1
  refreshed: typeof TwitchRefreshedV1
  failed: typeof TwitchRefreshFailedV1
}
export type RefreshRequest = EventPayload<typeof TwitchRefreshRequestedV1>

/** A transaction over the service's database (its own tables plus the kit's). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service types its own tables
export type ServiceTransaction = Transaction<any>

/** What a service gives the pipeline: how to fetch from its provider and how to store the result. */
export interface ProviderAdapter<R> {
  /** Fetches everything a snapshot holds, calling the provider through the session. */
  fetch (session: ProviderSession, account: TrackedAccount, log: FastifyBaseLogger): Promise<R>
  /** Inserts the snapshot row (with this id) and replaces the user's lists, inside the pipeline's transaction. */
  store (trx: ServiceTransaction, snapshot: { id: string, userId: string, capturedAt: Date }, result: R): Promise<void>
  /** Deletes the service's own rows of a user (its lists); the kit deletes snapshots and its tables. */
  deleteUserRows (trx: ServiceTransaction, userId: string): Promise<void>
}

export interface IngestPipelineOptions<R> {
  provider: ProviderName
  /** Refresh durations and failures (off when the service has no metrics). */
  metrics?: IngestMetrics
  /** How the provider is called in messages people read ("Twitch", "X"). */
  providerName: string
  contracts: MetricsContracts
  /** Durable consumer names, shared by all replicas of the service. */
  durables: { auth: string, refresh: string }
  adapter: ProviderAdapter<R>
  now: Clock
  /** Every tracked account is refreshed once per interval of this length, at its own slot within it. */
  refreshIntervalMs: number
  scheduler: {
    enabled: boolean
    /** How often each replica tries to request the refreshes due since the previous tick. */
    tickMs: number
    /** Accounts read (and published at once) per query of a tick. */
    pageSize: number
  }
  /** POST /…/refresh: at most one per user per this long. */
  manualRefreshMinIntervalMs: number
  tokenRequestTimeoutMs: number
  /** Redelivery after a provider or auth outage: base × 2^(delivery − 1), at most max. */
  redeliveryBaseMs: number
  redeliveryMaxMs: number
  /** A request still failing for a transient reason this long after it was made fails for good. */
  giveUpAfterMs: number
  /** How long one refresh may take before JetStream hands its message to another replica. */
  ackWaitMs: number
  /**
   * Refreshes one replica runs at once (default 1). Refresh requests are independent (each counts
   * once: the processed-request row and the tracked account's lock), and a refresh mostly waits for
   * the provider, so a few at once multiply what a replica drains. Link events stay in order.
   */
  refreshConcurrency?: number
  /** Processed-request ids and unlink markers are kept this long (at least the stream's max age). */
  bookkeepingRetentionMs: number
}

export interface IngestPipeline {
  readonly provider: ProviderName
  /** POST /…/refresh: claims the user's slot and enqueues a request, in one transaction. */
  requestManualRefresh (userId: string): Promise<ManualRefreshClaim & { requestedAt: Date }>
  /** One scheduler tick: requests a refresh of the accounts due since the previous tick (0 when another replica is doing this tick); answers how many it published. */
  runSchedulerTick (): Promise<number>
  trackedAccount (userId: string): Promise<TrackedAccount | undefined>
}

/** What each of the pipeline's jobs works with. */
export interface PipelineContext<R> {
  app: FastifyInstance
  db: Kysely<IngestDatabase>
  log: FastifyBaseLogger
  options: IngestPipelineOptions<R>
  /** Deletes every row of a user: the service's own (its adapter) and the kit's. */
  deleteUserData (trx: ServiceTransaction, userId: string): Promise<void>
}
