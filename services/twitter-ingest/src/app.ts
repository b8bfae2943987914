import { METRICS_CONTRACTS, TwitterHistoryQuerySchema, TwitterHistorySchema } from '@pulse/contracts'
import { ingestService, systemClock, type IngestAppOptions } from '@pulse/ingest-kit'
import type { FastifyInstance } from 'fastify'
import type { TwitterIngestConfig } from './config.js'
import { SCHEMA, TWITTER_METRIC_COLUMNS } from './db/database.js'
import { TwitterErrors } from './errors.js'
import { deleteProfile, storeProfile } from './repositories/profiles.js'
import { deletePosts, storeTwitterRefresh } from './repositories/twitter.js'
import twitterRoutes from './routes/twitter.js'
import { XClient } from './x/client.js'
import { fetchTwitterMetrics } from './x/fetch-metrics.js'

export type TwitterIngestAppOptions = IngestAppOptions<TwitterIngestConfig>

/** twitter-ingest as a plugin: the kit's ingest wiring with the X adapter, and the X routes. */
export default async function app (fastify: FastifyInstance, { config, now = systemClock }: TwitterIngestAppOptions) {
  await fastify.register(ingestService, {
    config,
    prefix: 'TWITTER',
    service: 'twitter-ingest',
    provider: 'twitter',
    providerName: 'X',
    schema: SCHEMA,
    openapi: { title: 'Pulse X metrics', description: 'The logged-in user\'s X (Twitter) numbers over time and their recent posts.' },
    contracts: METRICS_CONTRACTS.twitter,
    rateLimitHeaders: { remaining: 'x-rate-limit-remaining', reset: 'x-rate-limit-reset' },
    now,
    adapter: ({ http }) => {
      const x = new XClient({ apiUrl: config.TWITTER_API_URL, consumerKey: config.TWITTER_API_KEY, consumerSecret: config.TWITTER_API_SECRET, http })
      return {
        fetch: (session, account, log) => fetchTwitterMetrics(x, session, { maxPosts: config.TWITTER_MAX_POSTS, pageSize: config.TWITTER_PAGE_SIZE }, log, account.provider_user_id),
        store: async (trx, snapshot, result) => {
          await storeTwitterRefresh(trx, snapshot, result)
          await storeProfile(trx, snapshot.userId, result.profile)
        },
        deleteUserRows: async (trx, userId) => {
          await deletePosts(trx, userId)
          await deleteProfile(trx, userId)
        }
      }
    },
    routes: { errors: TwitterErrors, metricColumns: TWITTER_METRIC_COLUMNS, historyQuerySchema: TwitterHistoryQuerySchema, historySchema: TwitterHistorySchema }
  })
  await fastify.register(twitterRoutes)
}
