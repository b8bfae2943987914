import { AUTH_STREAM, METRICS_STREAM, USER_DATA_SUBJECTS, type UserDataService } from '@pulse/contracts'
import { databaseOptionsOf, databasePlugin, natsPlugin, outboxPlugin, serveUserData, serviceOptionsOf, servicePlugin } from '@pulse/service-kit'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import type { TSchema } from 'typebox'
import { systemClock, type Clock } from './clock.js'
import { ingestSettingsOf, type IngestConfig, type IngestSettingValues } from './config.js'
import type { IngestDatabase } from './db.js'
import type { IngestHttpErrors } from './http-errors.js'
import { createIngestMetrics } from './metrics.js'
import { ingestPipeline, type MetricsContracts, type ProviderAdapter, type ProviderName } from './pipeline/index.js'
import { ProviderHttp } from './provider-http.js'
import { RateLimitTracker } from './rate-limit.js'
import { pageOf, pageRequest, type PageRequest } from './read.js'
import { latestCaptureTime, pageUserSnapshots } from './repositories.js'
import { runSnapshotRetention, type RetentionRun } from './retention.js'
import { providerRoutes, type HistoryQuerySchema } from './routes.js'

export interface IngestServiceOptions<P extends string, R> {
  config: IngestConfig<P>
  /** The settings' and error codes' prefix: `TWITCH` reads TWITCH_REFRESH_INTERVAL_S and answers TWITCH_NOT_CONNECTED. */
  prefix: P
  /** The service's name (`twitch-ingest`): identity audience, NATS connection, outbox, durable consumers. */
  service: string
  /** The provider (`twitch`): connection events, path prefix (`/twitch/...`), API reference tag. */
  provider: ProviderName
  /** How people call the provider (`Twitch`, `X`). */
  providerName: string
  /** The Postgres schema the service owns. */
  schema: string
  openapi: { title: string, description: string }
  contracts: MetricsContracts
  /** The provider's rate-limit header names (lower case). */
  rateLimitHeaders: { remaining: string, reset: string }
  /** The clock, ms since the epoch: tests use the provider simulator's, so days pass in an instant. */
  now?: Clock
  /** The service's part: how to fetch from its provider (through the kit's HTTP client) and store the result. */
  adapter: (kit: { http: ProviderHttp, settings: IngestSettingValues, log: FastifyBaseLogger }) => ProviderAdapter<R>
  routes: {
    errors: IngestHttpErrors
    /** Each history metric and the snapshot column that holds it. */
    metricColumns: Record<string, string>
    historyQuerySchema: HistoryQuerySchema
    historySchema: TSchema
  }
}

/** What an ingest service's app plugin takes: its configuration and, in tests, a clock. */
export interface IngestAppOptions<C> {
  config: C
  /** The clock, ms since the epoch: tests use the provider simulator's, so days pass in an instant. */
  now?: Clock
}

/** A page of a list kept from the latest refresh, and when that refresh was captured. */
export interface LatestListPage<I> {
  items: I[]
  nextCursor: string | null
  capturedAt: string | null
}

/** What the service's own routes share with the kit's. */
export interface IngestRouteKit extends ReturnType<typeof providerRoutes> {
  now: Clock
  settings: IngestSettingValues
  /** The list page sizes of the settings (<PREFIX>_LIST_PAGE_SIZE_DEFAULT and _MAX), for `pageRequest`. */
  pageSizes: { defaultLimit: number, maxLimit: number }
  /**
   * The caller's page of a list kept from the latest refresh (409 when not connected, 400 on a bad
   * cursor or limit): `read` gives the rows of the page (one more than asked: is there a next page?).
   */
  latestListPage: <Row, Item>(
    request: FastifyRequest, query: { cursor?: string, limit?: number },
    read: (userId: string, page: PageRequest) => Promise<Row[]>, toItem: (row: Row) => Item
  ) => Promise<LatestListPage<Item>>
  /** The provider HTTP client of the pipeline, for the service's other provider calls. */
  http: ProviderHttp
}

declare module 'fastify' {
  interface FastifyInstance {
    ingestRoutes: IngestRouteKit
    /** The retention job (roll-ups, partitions), which the timer runs; tests run it by hand. */
    snapshotRetention: { run: () => Promise<RetentionRun> }
  }
}

/**
 * Tries the retention job every `intervalMs` on this replica (the advisory lock lets one run at a
 * time). A plain timer, not the refresh scheduler: the job needs no windows or messages, only
 * "now and then", and every run does what is due since the last.
 */
function retentionTimer (app: FastifyInstance, run: () => Promise<RetentionRun>, intervalMs: number): void {
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  const tick = () => {
    running = run().then((r) => {
      if (r.ran && (r.partitionsDropped > 0 || r.hourlyDeleted > 0)) app.log.info(r, 'snapshot retention')
    }, (err: unknown) => { app.log.error({ err }, 'snapshot retention failed') }).finally(() => { running = undefined })
  }
  app.addHook('onReady', async () => {
    tick()
    timer = setInterval(() => { if (running === undefined) tick() }, intervalMs)
    timer.unref()
  })
  app.addHook('preClose', async () => {
    clearInterval(timer)
    await running
  })
}

/**
 * An ingest service, wired from its settings: the service kit, Postgres, NATS and the outbox, the
 * provider HTTP client, the pipeline and the routes every provider has (history, manual refresh).
 * The service registers it, then its own routes with `app.ingestRoutes`.
 */
async function ingestServicePlugin<P extends string, R> (app: FastifyInstance, options: IngestServiceOptions<P, R>) {
  const { config, prefix, now = systemClock } = options
  const settings = ingestSettingsOf(prefix, config)
  await app.register(servicePlugin, serviceOptionsOf(config, { prefix, audience: options.service, openapi: options.openapi }))
  await app.register(databasePlugin, databaseOptionsOf(config, options.schema))
  await app.register(natsPlugin, { url: config.NATS_URL, name: options.service, prefix: config.NATS_PREFIX, streams: [METRICS_STREAM, AUTH_STREAM], maxDeliver: config.NATS_MAX_DELIVER, streamReplicas: config.NATS_STREAM_REPLICAS })
  // The dashboard's reads need Postgres only: a replica that lost NATS keeps serving them (manual
  // refreshes wait in the outbox), while the other replicas' consumers do the refreshing.
  app.readiness.delete('nats')
  await app.register(outboxPlugin, { service: options.service, pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS })

  const metrics = app.metrics === null ? undefined : createIngestMetrics(app.metrics.registry, options.provider)
  const http = new ProviderHttp({
    metrics,
    now,
    tracker: new RateLimitTracker(now),
    rateLimitHeaders: options.rateLimitHeaders,
    timeoutMs: settings.HTTP_TIMEOUT_MS,
    maxAttempts: settings.HTTP_MAX_ATTEMPTS,
    retryBaseMs: settings.HTTP_RETRY_BASE_MS,
    maxInlineWaitMs: settings.RATE_LIMIT_INLINE_WAIT_MS,
    maxRateLimitWaitMs: settings.RATE_LIMIT_MAX_WAIT_S * 1000,
    log: app.log
  })
  await app.register(ingestPipeline, {
    metrics,
    provider: options.provider,
    providerName: options.providerName,
    contracts: options.contracts,
    durables: { auth: `${options.service}-auth`, refresh: `${options.service}-refresh` },
    adapter: options.adapter({ http, settings, log: app.log }),
    now,
    refreshIntervalMs: settings.REFRESH_INTERVAL_S * 1000,
    scheduler: { enabled: settings.SCHEDULER_ENABLED, tickMs: settings.SCHEDULER_TICK_S * 1000, pageSize: settings.SCHEDULER_PAGE_SIZE },
    manualRefreshMinIntervalMs: settings.MANUAL_REFRESH_MIN_INTERVAL_S * 1000,
    tokenRequestTimeoutMs: settings.TOKEN_REQUEST_TIMEOUT_MS,
    redeliveryBaseMs: settings.REDELIVERY_BASE_MS,
    redeliveryMaxMs: settings.REDELIVERY_MAX_MS,
    giveUpAfterMs: settings.REFRESH_GIVE_UP_S * 1000,
    ackWaitMs: settings.REFRESH_ACK_WAIT_S * 1000,
    refreshConcurrency: settings.REFRESH_CONCURRENCY,
    bookkeepingRetentionMs: settings.BOOKKEEPING_RETENTION_DAYS * 24 * 3600 * 1000
  })

  const retention = { rawDays: settings.SNAPSHOT_RAW_DAYS, hourlyDays: settings.SNAPSHOT_HOURLY_DAYS }
  const runRetention = async (): Promise<RetentionRun> => await runSnapshotRetention(app.db as Kysely<IngestDatabase>, now(), retention)
  app.decorate('snapshotRetention', { run: runRetention })
  if (settings.RETENTION_ENABLED) retentionTimer(app, runRetention, settings.RETENTION_INTERVAL_S * 1000)

  // A data export asks for every snapshot of the user (a few hundred bytes each: 500 a page).
  if (options.service in USER_DATA_SUBJECTS) {
    serveUserData(app, options.service as UserDataService, async (userId, cursor) => await pageUserSnapshots(app.db as Kysely<IngestDatabase>, userId, cursor, 500))
  }

  const shared = providerRoutes(app, {
    name: options.provider,
    label: options.providerName,
    codePrefix: prefix,
    ...options.routes,
    now,
    historyDefaultDays: settings.HISTORY_DEFAULT_DAYS,
    historyMaxDays: settings.HISTORY_MAX_DAYS,
    historyMaxPoints: settings.HISTORY_MAX_POINTS,
    retention
  })
  const pageSizes = { defaultLimit: settings.LIST_PAGE_SIZE_DEFAULT, maxLimit: settings.LIST_PAGE_SIZE_MAX }
  const latestListPage: IngestRouteKit['latestListPage'] = async (request, query, read, toItem) => {
    const account = await shared.connected(request)
    const page = pageRequest(query, pageSizes, shared.invalid)
    const rows = await read(account.user_id, page)
    const capturedAt = await latestCaptureTime(app.db as Kysely<IngestDatabase>, account.user_id)
    const { items, nextCursor } = pageOf(rows, page)
    return { items: items.map(toItem), nextCursor, capturedAt: capturedAt?.toISOString() ?? null }
  }
  app.decorate('ingestRoutes', { ...shared, now, settings, http, pageSizes, latestListPage } satisfies IngestRouteKit)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service has its own prefix and adapter result
export const ingestService = fp<IngestServiceOptions<any, any>>(ingestServicePlugin, { name: 'pulse-ingest-service', fastify: '5.x' })
