import { randomUUID } from 'node:crypto'
import {
  AUTH_STREAM, ConnectionInvalidatedV1, ConnectionLinkedV1, ConnectionUnlinkedV1, METRICS_STREAM,
  type EventPayload, type TwitchRefreshFailedV1, type TwitchRefreshRequestedV1, type TwitchRefreshedV1
} from '@pulse/contracts'
import { enqueueEvent, type EventContext } from '@pulse/service-kit'
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely, Transaction } from 'kysely'
import type { Clock } from './clock.js'
import type { IngestDatabase, TrackedAccount } from './db.js'
import { classifyRefreshError, type FailureReason } from './provider-errors.js'
import {
  claimManualRefresh, deleteIngestRows, deleteOldBookkeeping, findTrackedAccount, isRefreshProcessed, listSchedulableUserIds,
  lockTrackedAccount, markInvalidated, recordProcessedRefresh, recordRefreshFailure, recordRefreshSuccess, recordUnlink,
  unlinkedSince, upsertTrackedAccount, type ManualRefreshClaim
} from './repositories.js'
import { ProviderSession } from './session.js'
import { requestProviderToken } from './token-client.js'

export type ProviderName = 'twitch' | 'twitter'
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
  /** How the provider is called in messages people read ("Twitch", "X"). */
  providerName: string
  contracts: MetricsContracts
  /** Durable consumer names, shared by all replicas of the service. */
  durables: { auth: string, refresh: string }
  adapter: ProviderAdapter<R>
  now: Clock
  /** Every tracked account is refreshed once per window of this length. */
  refreshIntervalMs: number
  scheduler: {
    enabled: boolean
    /** How often each replica checks whether a new window began. */
    tickMs: number
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
  /** One scheduler tick: requests a refresh of every account once per window; answers how many it published. */
  runSchedulerTick (): Promise<number>
  trackedAccount (userId: string): Promise<TrackedAccount | undefined>
}

declare module 'fastify' {
  interface FastifyInstance {
    ingest: IngestPipeline
  }
}

/** Deliveries of one refresh request at most, postponements included (see the refresh consumer). */
const REFRESH_MAX_DELIVER = 100

const DEFAULT_MESSAGES: Record<FailureReason, (provider: string) => string> = {
  rate_limited: (p) => `${p} kept refusing calls because of its rate limit; the next refresh will try again`,
  token_revoked: (p) => `${p} no longer accepts this connection; connect the account again`,
  provider_unavailable: (p) => `${p} is unavailable; the next refresh will try again`,
  not_connected: (p) => `No ${p} account is connected`,
  internal: (p) => `The ${p} refresh failed on our side; the next refresh will try again`
}

/**
 * The ingest pipeline of one provider, as a plugin: tracks accounts from auth's connection events,
 * handles refresh requests from a durable consumer shared by all replicas (token from auth, fetch,
 * snapshot + event in one transaction, exactly once per request), schedules periodic refreshes and
 * takes manual ones. Register after the kit's database, NATS and outbox plugins.
 */
async function ingestPipelinePlugin<R> (app: FastifyInstance, options: IngestPipelineOptions<R>) {
  const { provider, contracts, adapter, now } = options
  const db = app.db as Kysely<IngestDatabase>
  const log = app.log.child({ pipeline: provider })

  const deleteUserData = async (trx: ServiceTransaction, userId: string) => {
    await adapter.deleteUserRows(trx, userId)
    await deleteIngestRows(trx, userId)
  }

  // ----------------------------------------------------------------------------------------------
  // Connections (auth.connection.*)

  const onLinked = async (event: EventPayload<typeof ConnectionLinkedV1>) => {
    const linkedAt = new Date(event.linkedAt)
    const outcome = await db.transaction().execute(async (trx) => {
      if (await unlinkedSince(trx, event.userId, linkedAt)) return 'stale'
      const existing = await lockTrackedAccount(trx, event.userId)
      if (existing !== undefined && existing.linked_at.getTime() > linkedAt.getTime()) return 'stale'
      // Another account of the provider replaces the old one: its history is not this account's.
      if (existing !== undefined && existing.provider_user_id !== event.providerUserId) await deleteUserData(trx, event.userId)
      await upsertTrackedAccount(trx, { userId: event.userId, providerUserId: event.providerUserId, providerLogin: event.providerLogin, linkedAt })
      await enqueueEvent(trx, contracts.requested, { userId: event.userId, reason: 'linked', requestedAt: linkedAt.toISOString() })
      return 'tracked'
    })
    if (outcome === 'tracked') app.outbox.wake()
    log.info({ userId: event.userId, outcome }, 'connection linked')
  }

  const onUnlinked = async (event: EventPayload<typeof ConnectionUnlinkedV1>) => {
    const unlinkedAt = new Date(event.unlinkedAt)
    const outcome = await db.transaction().execute(async (trx) => {
      // Recorded either way: a link event older than this unlink, arriving later still, stays stale.
      await recordUnlink(trx, event.userId, unlinkedAt)
      // An unlink of before the current link (the user connected again, and the unlink arrived
      // late) is about the old connection: the new one's tracking and data stay.
      const existing = await lockTrackedAccount(trx, event.userId)
      if (existing !== undefined && existing.linked_at.getTime() > unlinkedAt.getTime()) return 'stale'
      await deleteUserData(trx, event.userId)
      return 'deleted'
    })
    log.info({ userId: event.userId, outcome }, outcome === 'deleted' ? 'connection unlinked: the user\'s data is deleted' : 'stale unlink ignored: the user linked again since')
  }

  const onInvalidated = async (event: EventPayload<typeof ConnectionInvalidatedV1>) => {
    await markInvalidated(db, event.userId, event.reason, new Date(event.invalidatedAt))
    log.info({ userId: event.userId, reason: event.reason }, 'connection invalidated')
  }

  // ----------------------------------------------------------------------------------------------
  // Refresh requests

  const fail = async (request: RefreshRequest, reason: FailureReason, detail: string, invalidate: boolean) => {
    const failedAt = new Date(now())
    const payload = { userId: request.userId, provider, reason, message: DEFAULT_MESSAGES[reason](options.providerName), failedAt: failedAt.toISOString() }
    const recorded = await db.transaction().execute(async (trx) => {
      const tracked = await lockTrackedAccount(trx, request.userId)
      // Nothing to record for a user no longer tracked; the event still says why nothing happened.
      if (tracked !== undefined) {
        const first = await recordProcessedRefresh(trx, {
          userId: request.userId, requestedAt: new Date(request.requestedAt), reason: request.reason, outcome: 'failed', failureReason: reason
        })
        if (!first) return false
        await recordRefreshFailure(trx, request.userId, reason, failedAt, invalidate)
      }
      await enqueueEvent(trx, contracts.failed, payload)
      return true
    })
    if (recorded) app.outbox.wake()
    log.warn({ userId: request.userId, requestedAt: request.requestedAt, reason, detail }, 'refresh failed')
  }

  const store = async (request: RefreshRequest, result: R): Promise<'stored' | 'duplicate' | 'untracked'> => {
    const snapshot = { id: randomUUID(), userId: request.userId, capturedAt: new Date(now()) }
    const outcome = await db.transaction().execute(async (trx) => {
      // Locked: an unlink waits for this transaction, or this one finds the account gone.
      if (await lockTrackedAccount(trx, request.userId) === undefined) return 'untracked' as const
      const first = await recordProcessedRefresh(trx, {
        userId: request.userId, requestedAt: new Date(request.requestedAt), reason: request.reason, outcome: 'refreshed', snapshotId: snapshot.id
      })
      if (!first) return 'duplicate' as const
      await adapter.store(trx, snapshot, result)
      await recordRefreshSuccess(trx, request.userId, snapshot.capturedAt)
      await enqueueEvent(trx, contracts.refreshed, { userId: request.userId, provider, capturedAt: snapshot.capturedAt.toISOString(), snapshotId: snapshot.id })
      return 'stored' as const
    })
    if (outcome === 'stored') app.outbox.wake()
    return outcome
  }

  const redeliveryDelay = (delivery: number) =>
    Math.min(options.redeliveryMaxMs, options.redeliveryBaseMs * 2 ** Math.max(0, Math.min(delivery - 1, 20)))

  const onRefreshRequested = async (request: RefreshRequest, ctx: EventContext) => {
    const requestedAt = new Date(request.requestedAt)
    const context = { userId: request.userId, requestedAt: request.requestedAt, reason: request.reason, delivery: ctx.redeliveryCount }
    if (await isRefreshProcessed(db, request.userId, requestedAt)) {
      log.info(context, 'refresh request already handled')
      return
    }
    const account = await findTrackedAccount(db, request.userId)
    if (account === undefined) {
      await fail(request, 'not_connected', 'the account is not tracked (never linked, or unlinked)', false)
      return
    }
    try {
      const session = await ProviderSession.open((rejectedAccessToken) => requestProviderToken(app.nats, {
        userId: request.userId, provider, ...(rejectedAccessToken === undefined ? {} : { rejectedAccessToken })
      }, options.tokenRequestTimeoutMs))
      const result = await adapter.fetch(session, account, log)
      const outcome = await store(request, result)
      if (outcome === 'untracked') await fail(request, 'not_connected', 'the account was unlinked during the refresh', false)
      log.info({ ...context, outcome }, 'refresh handled')
    } catch (error) {
      const decision = classifyRefreshError(error)
      const age = now() - requestedAt.getTime()
      if (decision.kind === 'final') {
        await fail(request, decision.reason, decision.message, decision.invalidate)
        return
      }
      if (age < options.giveUpAfterMs) {
        if (decision.kind === 'unexpected') throw error // the consumer redelivers with its own backoff
        const delay = decision.retryAt !== undefined
          ? Math.max(250, decision.retryAt - now()) + Math.floor(Math.random() * 250)
          : redeliveryDelay(ctx.redeliveryCount)
        log.warn({ ...context, reason: decision.reason, detail: decision.message, retryInMs: delay }, 'refresh postponed')
        ctx.retryLater(delay)
        return
      }
      const reason = decision.kind === 'retry' ? decision.reason : 'internal'
      if (decision.kind === 'unexpected') log.error({ ...context, err: error }, 'refresh failed unexpectedly')
      await fail(request, reason, `${decision.message} (gave up ${Math.round(age / 1000)} s after the request)`, false)
    }
  }

  // ----------------------------------------------------------------------------------------------
  // Scheduler: every replica publishes the same message ids per window; JetStream keeps one
  // (within its de-duplication window) and the processed-request table catches any later copy.

  let lastWindow: number | undefined
  const runSchedulerTick = async (): Promise<number> => {
    const at = now()
    const windowStart = Math.floor(at / options.refreshIntervalMs) * options.refreshIntervalMs
    if (lastWindow === windowStart) return 0
    const requestedAt = new Date(windowStart).toISOString()
    let published = 0
    let after: string | undefined
    for (;;) {
      const userIds = await listSchedulableUserIds(db, after, options.scheduler.pageSize)
      for (const userId of userIds) {
        await app.nats.publish(contracts.requested, { userId, reason: 'scheduled', requestedAt }, { msgID: `${provider}:${userId}:${requestedAt}` })
        published++
      }
      if (userIds.length < options.scheduler.pageSize) break
      after = userIds[userIds.length - 1]
    }
    lastWindow = windowStart
    await deleteOldBookkeeping(db, new Date(at - options.bookkeepingRetentionMs))
    if (published > 0) log.info({ window: requestedAt, published }, 'scheduled refreshes requested')
    return published
  }

  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const loop = () => {
    timer = setTimeout(() => {
      runSchedulerTick().catch((err: unknown) => log.warn({ err }, 'scheduler tick failed; retrying at the next tick')).finally(() => {
        if (!stopped) loop()
      })
    }, options.scheduler.tickMs)
    timer.unref()
  }

  const requestManualRefresh = async (userId: string) => {
    const requestedAt = new Date(now())
    const claim = await db.transaction().execute(async (trx) => {
      const result = await claimManualRefresh(trx, userId, requestedAt, options.manualRefreshMinIntervalMs)
      if (result.outcome === 'claimed') await enqueueEvent(trx, contracts.requested, { userId, reason: 'manual', requestedAt: requestedAt.toISOString() })
      return result
    })
    if (claim.outcome === 'claimed') app.outbox.wake()
    return { ...claim, requestedAt }
  }

  app.decorate('ingest', {
    provider,
    requestManualRefresh,
    runSchedulerTick,
    trackedAccount: (userId: string) => findTrackedAccount(db, userId)
  } satisfies IngestPipeline)

  app.addHook('onReady', async () => {
    await app.nats.consume([ConnectionLinkedV1, ConnectionUnlinkedV1, ConnectionInvalidatedV1], { durable: options.durables.auth, stream: AUTH_STREAM }, async (payload, contract) => {
      const event = payload as { provider: ProviderName }
      if (event.provider !== provider) return
      if (contract === ConnectionLinkedV1) await onLinked(payload as EventPayload<typeof ConnectionLinkedV1>)
      else if (contract === ConnectionUnlinkedV1) await onUnlinked(payload as EventPayload<typeof ConnectionUnlinkedV1>)
      else await onInvalidated(payload as EventPayload<typeof ConnectionInvalidatedV1>)
    })
    await app.nats.consume([contracts.requested], {
      durable: options.durables.refresh,
      stream: METRICS_STREAM,
      ackWaitMs: options.ackWaitMs,
      concurrency: options.refreshConcurrency ?? 1,
      // Postponements (a rate limit, a provider outage) are deliveries too; for those the pipeline's
      // give-up time ends the request first, with a failure event. The bound is for a request that
      // keeps failing unexpectedly.
      maxDeliver: Math.max(app.nats.maxDeliver, REFRESH_MAX_DELIVER)
    }, async (payload, _contract, ctx) => {
      await onRefreshRequested(payload as RefreshRequest, ctx)
    })
    if (options.scheduler.enabled) {
      runSchedulerTick().catch((err: unknown) => log.warn({ err }, 'scheduler tick failed; retrying at the next tick'))
      loop()
    }
  })
  app.addHook('preClose', async () => {
    stopped = true
    if (timer !== undefined) clearTimeout(timer)
  })
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service's adapter has its own result type
export const ingestPipeline: FastifyPluginAsync<IngestPipelineOptions<any>> = fp(ingestPipelinePlugin, {
  name: 'pulse-ingest-pipeline',
  fastify: '5.x',
  dependencies: ['pulse-database', 'pulse-nats', 'pulse-outbox']
})
