import {
  AUTH_STREAM, ConnectionInvalidatedV1, ConnectionLinkedV1, ConnectionUnlinkedV1, METRICS_STREAM, UserDeletedV1, type EventPayload
} from '@pulse/contracts'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import type { IngestDatabase } from '../db.js'
import { deleteIngestRows, findTrackedAccount } from '../repositories.js'
import { connectionHandlers } from './connections.js'
import { refreshHandler } from './refresh.js'
import { scheduler } from './scheduler.js'
import type { IngestPipeline, IngestPipelineOptions, PipelineContext, ProviderName, RefreshRequest, ServiceTransaction } from './types.js'

export * from './types.js'
/** The scheduler alone, for the benchmark that drives its ticks (bench/scheduler.ts). */
export { scheduler as createRefreshScheduler, dueAt, dueSlots, type DueSlots } from './scheduler.js'

declare module 'fastify' {
  interface FastifyInstance {
    ingest: IngestPipeline
  }
}

/** Deliveries of one refresh request at most, postponements included (see the refresh consumer). */
const REFRESH_MAX_DELIVER = 100

/**
 * The ingest pipeline of one provider, as a plugin: tracks accounts from auth's connection events,
 * handles refresh requests from a durable consumer shared by all replicas, schedules periodic
 * refreshes and takes manual ones. Register after the kit's database, NATS and outbox plugins.
 */
async function ingestPipelinePlugin<R> (app: FastifyInstance, options: IngestPipelineOptions<R>) {
  const { provider, adapter } = options
  const db = app.db as Kysely<IngestDatabase>
  const context: PipelineContext<R> = {
    app,
    db,
    log: app.log.child({ pipeline: provider }),
    options,
    deleteUserData: async (trx: ServiceTransaction, userId: string) => {
      await adapter.deleteUserRows(trx, userId)
      await deleteIngestRows(trx, userId)
    }
  }
  const connections = connectionHandlers(context)
  const onRefreshRequested = refreshHandler(context)
  const schedule = scheduler(context)

  app.decorate('ingest', {
    provider,
    requestManualRefresh: schedule.requestManualRefresh,
    runSchedulerTick: schedule.runSchedulerTick,
    trackedAccount: (userId: string) => findTrackedAccount(db, userId)
  } satisfies IngestPipeline)

  app.addHook('onReady', async () => {
    // One durable consumer, in stream order: a user's deletion comes after every link event of theirs.
    await app.nats.consume([ConnectionLinkedV1, ConnectionUnlinkedV1, ConnectionInvalidatedV1, UserDeletedV1], { durable: options.durables.auth, stream: AUTH_STREAM }, async (payload, contract) => {
      if (contract === UserDeletedV1) {
        await connections.onUserDeleted(payload as EventPayload<typeof UserDeletedV1>)
        return
      }
      const event = payload as { provider: ProviderName }
      if (event.provider !== provider) return
      if (contract === ConnectionLinkedV1) await connections.onLinked(payload as EventPayload<typeof ConnectionLinkedV1>)
      else if (contract === ConnectionUnlinkedV1) await connections.onUnlinked(payload as EventPayload<typeof ConnectionUnlinkedV1>)
      else await connections.onInvalidated(payload as EventPayload<typeof ConnectionInvalidatedV1>)
    })
    await app.nats.consume([options.contracts.requested], {
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
    if (options.scheduler.enabled) schedule.start()
  })
  app.addHook('preClose', async () => { schedule.stop() })
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service's adapter has its own result type
export const ingestPipeline: FastifyPluginAsync<IngestPipelineOptions<any>> = fp(ingestPipelinePlugin, {
  name: 'pulse-ingest-pipeline',
  fastify: '5.x',
  dependencies: ['pulse-database', 'pulse-nats', 'pulse-outbox']
})
