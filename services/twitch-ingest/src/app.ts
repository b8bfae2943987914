import { METRICS_CONTRACTS, TwitchHistoryQuerySchema, TwitchHistorySchema } from '@pulse/contracts'
import { ingestService, systemClock, type IngestAppOptions } from '@pulse/ingest-kit'
import { redisConnectionOf } from '@pulse/service-kit'
import type { FastifyInstance } from 'fastify'
import type { TwitchIngestConfig } from './config.js'
import { SCHEMA, TWITCH_METRIC_COLUMNS } from './db/database.js'
import { TwitchErrors } from './errors.js'
import { AppTokenProvider } from './helix/app-token.js'
import { HelixClient } from './helix/client.js'
import { fetchTwitchMetrics } from './helix/fetch-metrics.js'
import { registerEventSub } from './eventsub/index.js'
import { TwitchLookups } from './lookups.js'
import lookupCache from './plugins/lookup-cache.js'
import { deleteRecentFollowers, storeRecentFollowers } from './repositories/followers.js'
import { deleteProfile, storeProfile } from './repositories/profiles.js'
import { deleteSessions } from './repositories/stream-sessions.js'
import { deleteTwitchLists, storeTwitchRefresh } from './repositories/twitch.js'
import followerRoutes from './routes/followers.js'
import lookupRoutes from './routes/lookups.js'
import streamHoursRoutes from './routes/stream-hours.js'
import streamRoutes from './routes/streams.js'
import webhookRoutes from './routes/webhooks.js'
import topRoutes from './routes/top.js'
import twitchRoutes from './routes/twitch.js'
import { createTopLists } from './top-lists.js'

export type TwitchIngestAppOptions = IngestAppOptions<TwitchIngestConfig>

/** twitch-ingest as a plugin: the kit's ingest wiring with the Helix adapter, and the Twitch routes. */
export default async function app (fastify: FastifyInstance, { config, now = systemClock }: TwitchIngestAppOptions) {
  const helixOf = (http: ConstructorParameters<typeof HelixClient>[0]['http']) => new HelixClient({ apiUrl: config.TWITCH_API_URL, clientId: config.TWITCH_CLIENT_ID, http })
  await fastify.register(ingestService, {
    config,
    prefix: 'TWITCH',
    service: 'twitch-ingest',
    provider: 'twitch',
    providerName: 'Twitch',
    schema: SCHEMA,
    openapi: { title: 'Pulse Twitch metrics', description: 'The logged-in user\'s Twitch numbers over time, their lists, and what is popular on Twitch now.' },
    contracts: METRICS_CONTRACTS.twitch,
    rateLimitHeaders: { remaining: 'ratelimit-remaining', reset: 'ratelimit-reset' },
    now,
    adapter: ({ http }) => {
      const helix = helixOf(http)
      return {
        fetch: (session, account, log) => fetchTwitchMetrics(helix, session, {
          pageSize: config.TWITCH_PAGE_SIZE, maxPages: config.TWITCH_MAX_PAGES, bitsLeaderboardSize: config.TWITCH_BITS_LEADERBOARD_SIZE, recentFollowers: config.TWITCH_RECENT_FOLLOWERS
        }, log, account.provider_user_id),
        store: async (trx, snapshot, result) => {
          await storeTwitchRefresh(trx, snapshot, result, config.TWITCH_LIST_MAX_ITEMS)
          await storeProfile(trx, snapshot.userId, result.profile)
          await storeRecentFollowers(trx, snapshot.userId, result.recentFollowers)
        },
        deleteUserRows: async (trx, userId) => {
          await deleteTwitchLists(trx, userId)
          await deleteSessions(trx, userId)
          await deleteProfile(trx, userId)
          await deleteRecentFollowers(trx, userId)
        }
      }
    },
    routes: { errors: TwitchErrors, metricColumns: TWITCH_METRIC_COLUMNS, historyQuerySchema: TwitchHistoryQuerySchema, historySchema: TwitchHistorySchema }
  })

  const appToken = new AppTokenProvider({
    authUrl: config.TWITCH_AUTH_URL, clientId: config.TWITCH_CLIENT_ID, clientSecret: config.TWITCH_CLIENT_SECRET, now, timeoutMs: config.TWITCH_HTTP_TIMEOUT_MS
  })
  const topLists = createTopLists(helixOf(fastify.ingestRoutes.http), appToken, { size: config.TWITCH_TOP_SIZE, ttlMs: config.TWITCH_TOP_CACHE_S * 1000, now, log: fastify.log })
  await fastify.register(twitchRoutes)
  await fastify.register(topRoutes, { topLists, pageSizeDefault: config.TWITCH_LIST_PAGE_SIZE_DEFAULT, pageSizeMax: config.TWITCH_LIST_PAGE_SIZE_MAX })
  await fastify.register(streamRoutes)
  await fastify.register(streamHoursRoutes)
  await fastify.register(followerRoutes)
  await fastify.register(lookupCache, { ...redisConnectionOf(config), keyPrefix: config.REDIS_PREFIX, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS })
  const lookups = new TwitchLookups({
    helix: helixOf(fastify.ingestRoutes.http), appToken, cache: fastify.lookupCache, ttlS: config.TWITCH_LOOKUP_CACHE_S, staleS: config.TWITCH_LOOKUP_STALE_S, now
  })
  await fastify.register(lookupRoutes, { lookups, now, pageSizeDefault: Math.min(config.TWITCH_LIST_PAGE_SIZE_DEFAULT, 100) })
  const eventsubSecret = config.TWITCH_EVENTSUB_ENABLED ? config.TWITCH_EVENTSUB_SECRET : undefined
  await fastify.register(webhookRoutes, { secret: eventsubSecret, maxAgeMs: config.TWITCH_EVENTSUB_MAX_AGE_S * 1000 })
  if (eventsubSecret !== undefined) await registerEventSub(fastify, { config, secret: eventsubSecret, now, appToken })
}
