import { AUTH_STREAM, METRICS_STREAM, TwitchRefreshFailedV1, TwitchRefreshRequestedV1, TwitchRefreshedV1 } from '@pulse/contracts'
import {
  ProviderHttp, RateLimitTracker, ingestPipeline, systemClock, type Clock, type ProviderAdapter
} from '@pulse/ingest-kit'
import { databaseOptionsOf, databasePlugin, natsPlugin, outboxPlugin, servicePlugin } from '@pulse/service-kit'
import type { FastifyInstance } from 'fastify'
import type { TwitchIngestConfig } from './config.js'
import { SCHEMA } from './db/database.js'
import { AppTokenProvider } from './helix/app-token.js'
import { HelixClient } from './helix/client.js'
import { fetchTwitchMetrics, type TwitchRefreshResult } from './helix/fetch-metrics.js'
import { deleteTwitchLists, storeTwitchRefresh } from './repositories/twitch.js'
import topRoutes from './routes/top.js'
import twitchRoutes from './routes/twitch.js'
import { createTopLists } from './top-lists.js'

export interface TwitchIngestAppOptions {
  config: TwitchIngestConfig
  /** The clock, ms since the epoch: tests use the provider simulator's, so days pass in an instant. */
  now?: Clock
}

/** twitch-ingest as a plugin: the kit, Postgres, NATS + outbox, the ingest pipeline, the routes. */
export default async function app (fastify: FastifyInstance, { config, now = systemClock }: TwitchIngestAppOptions) {
  const identitySecrets = [config.IDENTITY_SECRET, ...(config.IDENTITY_SECRET_PREVIOUS === undefined ? [] : [config.IDENTITY_SECRET_PREVIOUS])]
  await fastify.register(servicePlugin, {
    prefix: 'TWITCH',
    audience: 'twitch-ingest',
    identitySecrets,
    testProbes: config.TEST_PROBES,
    openapi: { title: 'Pulse Twitch metrics', description: 'The logged-in user\'s Twitch numbers over time, their lists, and what is popular on Twitch now.' }
  })
  await fastify.register(databasePlugin, databaseOptionsOf(config, SCHEMA))
  await fastify.register(natsPlugin, { url: config.NATS_URL, name: 'twitch-ingest', prefix: config.NATS_PREFIX, streams: [METRICS_STREAM, AUTH_STREAM], maxDeliver: config.NATS_MAX_DELIVER })
  // The dashboard's reads need Postgres only: a replica that lost NATS keeps serving them (manual
  // refreshes wait in the outbox), while the other replicas' consumers do the refreshing.
  fastify.readiness.delete('nats')
  await fastify.register(outboxPlugin, { service: 'twitch-ingest', pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS })

  const http = new ProviderHttp({
    now,
    tracker: new RateLimitTracker(now),
    rateLimitHeaders: { remaining: 'ratelimit-remaining', reset: 'ratelimit-reset' },
    timeoutMs: config.TWITCH_HTTP_TIMEOUT_MS,
    maxAttempts: config.TWITCH_HTTP_MAX_ATTEMPTS,
    retryBaseMs: config.TWITCH_HTTP_RETRY_BASE_MS,
    maxInlineWaitMs: config.TWITCH_RATE_LIMIT_INLINE_WAIT_MS,
    maxRateLimitWaitMs: config.TWITCH_RATE_LIMIT_MAX_WAIT_S * 1000,
    log: fastify.log
  })
  const helix = new HelixClient({ apiUrl: config.TWITCH_API_URL, clientId: config.TWITCH_CLIENT_ID, http })

  const adapter: ProviderAdapter<TwitchRefreshResult> = {
    fetch: (session, _account, log) => fetchTwitchMetrics(helix, session, {
      pageSize: config.TWITCH_PAGE_SIZE, maxPages: config.TWITCH_MAX_PAGES, bitsLeaderboardSize: config.TWITCH_BITS_LEADERBOARD_SIZE
    }, log),
    store: (trx, snapshot, result) => storeTwitchRefresh(trx, snapshot, result, config.TWITCH_LIST_MAX_ITEMS),
    deleteUserRows: (trx, userId) => deleteTwitchLists(trx, userId)
  }
  await fastify.register(ingestPipeline, {
    provider: 'twitch',
    providerName: 'Twitch',
    contracts: { requested: TwitchRefreshRequestedV1, refreshed: TwitchRefreshedV1, failed: TwitchRefreshFailedV1 },
    durables: { auth: 'twitch-ingest-auth', refresh: 'twitch-ingest-refresh' },
    adapter,
    now,
    refreshIntervalMs: config.TWITCH_REFRESH_INTERVAL_S * 1000,
    scheduler: { enabled: config.TWITCH_SCHEDULER_ENABLED, tickMs: config.TWITCH_SCHEDULER_TICK_S * 1000, pageSize: config.TWITCH_SCHEDULER_PAGE_SIZE },
    manualRefreshMinIntervalMs: config.TWITCH_MANUAL_REFRESH_MIN_INTERVAL_S * 1000,
    tokenRequestTimeoutMs: config.TWITCH_TOKEN_REQUEST_TIMEOUT_MS,
    redeliveryBaseMs: config.TWITCH_REDELIVERY_BASE_MS,
    redeliveryMaxMs: config.TWITCH_REDELIVERY_MAX_MS,
    giveUpAfterMs: config.TWITCH_REFRESH_GIVE_UP_S * 1000,
    ackWaitMs: config.TWITCH_REFRESH_ACK_WAIT_S * 1000,
    refreshConcurrency: config.TWITCH_REFRESH_CONCURRENCY,
    bookkeepingRetentionMs: config.TWITCH_BOOKKEEPING_RETENTION_DAYS * 24 * 3600 * 1000
  })

  const appToken = new AppTokenProvider({
    authUrl: config.TWITCH_AUTH_URL, clientId: config.TWITCH_CLIENT_ID, clientSecret: config.TWITCH_CLIENT_SECRET, now, timeoutMs: config.TWITCH_HTTP_TIMEOUT_MS
  })
  const topLists = createTopLists(helix, appToken, { size: config.TWITCH_TOP_SIZE, ttlMs: config.TWITCH_TOP_CACHE_S * 1000, now, log: fastify.log })

  const pages = { pageSizeDefault: config.TWITCH_LIST_PAGE_SIZE_DEFAULT, pageSizeMax: config.TWITCH_LIST_PAGE_SIZE_MAX }
  await fastify.register(twitchRoutes, {
    now,
    ...pages,
    historyDefaultDays: config.TWITCH_HISTORY_DEFAULT_DAYS,
    historyMaxDays: config.TWITCH_HISTORY_MAX_DAYS,
    historyMaxPoints: config.TWITCH_HISTORY_MAX_POINTS
  })
  await fastify.register(topRoutes, { topLists, ...pages })
}
