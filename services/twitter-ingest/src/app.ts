import { AUTH_STREAM, METRICS_STREAM, TwitterRefreshFailedV1, TwitterRefreshRequestedV1, TwitterRefreshedV1 } from '@pulse/contracts'
import { ProviderHttp, RateLimitTracker, ingestPipeline, systemClock, type Clock, type ProviderAdapter } from '@pulse/ingest-kit'
import { databaseOptionsOf, databasePlugin, natsPlugin, outboxPlugin, servicePlugin } from '@pulse/service-kit'
import type { FastifyInstance } from 'fastify'
import type { TwitterIngestConfig } from './config.js'
import { SCHEMA } from './db/database.js'
import { deletePosts, storeTwitterRefresh } from './repositories/twitter.js'
import twitterRoutes from './routes/twitter.js'
import { XClient } from './x/client.js'
import { fetchTwitterMetrics, type TwitterRefreshResult } from './x/fetch-metrics.js'

export interface TwitterIngestAppOptions {
  config: TwitterIngestConfig
  /** The clock, ms since the epoch: tests use the provider simulator's, so days pass in an instant. */
  now?: Clock
}

/** twitter-ingest as a plugin: the kit, Postgres, NATS + outbox, the ingest pipeline, the routes. */
export default async function app (fastify: FastifyInstance, { config, now = systemClock }: TwitterIngestAppOptions) {
  const identitySecrets = [config.IDENTITY_SECRET, ...(config.IDENTITY_SECRET_PREVIOUS === undefined ? [] : [config.IDENTITY_SECRET_PREVIOUS])]
  await fastify.register(servicePlugin, {
    prefix: 'TWITTER',
    audience: 'twitter-ingest',
    identitySecrets,
    testProbes: config.TEST_PROBES,
    openapi: { title: 'Pulse X metrics', description: 'The logged-in user\'s X (Twitter) numbers over time and their recent posts.' }
  })
  await fastify.register(databasePlugin, databaseOptionsOf(config, SCHEMA))
  await fastify.register(natsPlugin, { url: config.NATS_URL, name: 'twitter-ingest', prefix: config.NATS_PREFIX, streams: [METRICS_STREAM, AUTH_STREAM], maxDeliver: config.NATS_MAX_DELIVER })
  // The dashboard's reads need Postgres only: a replica that lost NATS keeps serving them (manual
  // refreshes wait in the outbox), while the other replicas' consumers do the refreshing.
  fastify.readiness.delete('nats')
  await fastify.register(outboxPlugin, { service: 'twitter-ingest', pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS })

  const http = new ProviderHttp({
    now,
    tracker: new RateLimitTracker(now),
    rateLimitHeaders: { remaining: 'x-rate-limit-remaining', reset: 'x-rate-limit-reset' },
    timeoutMs: config.TWITTER_HTTP_TIMEOUT_MS,
    maxAttempts: config.TWITTER_HTTP_MAX_ATTEMPTS,
    retryBaseMs: config.TWITTER_HTTP_RETRY_BASE_MS,
    maxInlineWaitMs: config.TWITTER_RATE_LIMIT_INLINE_WAIT_MS,
    maxRateLimitWaitMs: config.TWITTER_RATE_LIMIT_MAX_WAIT_S * 1000,
    log: fastify.log
  })
  const x = new XClient({ apiUrl: config.TWITTER_API_URL, consumerKey: config.TWITTER_API_KEY, consumerSecret: config.TWITTER_API_SECRET, http })

  const adapter: ProviderAdapter<TwitterRefreshResult> = {
    fetch: (session, _account, log) => fetchTwitterMetrics(x, session, { maxPosts: config.TWITTER_MAX_POSTS, pageSize: config.TWITTER_PAGE_SIZE }, log),
    store: (trx, snapshot, result) => storeTwitterRefresh(trx, snapshot, result),
    deleteUserRows: (trx, userId) => deletePosts(trx, userId)
  }
  await fastify.register(ingestPipeline, {
    provider: 'twitter',
    providerName: 'X',
    contracts: { requested: TwitterRefreshRequestedV1, refreshed: TwitterRefreshedV1, failed: TwitterRefreshFailedV1 },
    durables: { auth: 'twitter-ingest-auth', refresh: 'twitter-ingest-refresh' },
    adapter,
    now,
    refreshIntervalMs: config.TWITTER_REFRESH_INTERVAL_S * 1000,
    scheduler: { enabled: config.TWITTER_SCHEDULER_ENABLED, tickMs: config.TWITTER_SCHEDULER_TICK_S * 1000, pageSize: config.TWITTER_SCHEDULER_PAGE_SIZE },
    manualRefreshMinIntervalMs: config.TWITTER_MANUAL_REFRESH_MIN_INTERVAL_S * 1000,
    tokenRequestTimeoutMs: config.TWITTER_TOKEN_REQUEST_TIMEOUT_MS,
    redeliveryBaseMs: config.TWITTER_REDELIVERY_BASE_MS,
    redeliveryMaxMs: config.TWITTER_REDELIVERY_MAX_MS,
    giveUpAfterMs: config.TWITTER_REFRESH_GIVE_UP_S * 1000,
    ackWaitMs: config.TWITTER_REFRESH_ACK_WAIT_S * 1000,
    refreshConcurrency: config.TWITTER_REFRESH_CONCURRENCY,
    bookkeepingRetentionMs: config.TWITTER_BOOKKEEPING_RETENTION_DAYS * 24 * 3600 * 1000
  })

  await fastify.register(twitterRoutes, {
    now,
    pageSizeDefault: config.TWITTER_LIST_PAGE_SIZE_DEFAULT,
    pageSizeMax: config.TWITTER_LIST_PAGE_SIZE_MAX,
    historyDefaultDays: config.TWITTER_HISTORY_DEFAULT_DAYS,
    historyMaxDays: config.TWITTER_HISTORY_MAX_DAYS,
    historyMaxPoints: config.TWITTER_HISTORY_MAX_POINTS
  })
}
