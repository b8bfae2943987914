import {
  ErrorResponseSchema, MetricsRefreshAcceptedSchema, TwitterHistoryQuerySchema, TwitterHistorySchema, TwitterOverviewSchema,
  TwitterPostListSchema, TwitterPostsQuerySchema, type MetricsRefreshAccepted, type TwitterHistory, type TwitterHistoryQuery,
  type TwitterOverview, type TwitterPostList, type TwitterPostsQuery
} from '@pulse/contracts'
import {
  changesOf, connectionOf, historyRange, pageOf, pageRequest, readHistory, readOverview, type Clock, type IngestDb, type TrackedAccount
} from '@pulse/ingest-kit'
import { requireIdentity } from '@pulse/service-kit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import { TWITTER_METRIC_COLUMNS, type Database } from '../db/database.js'
import { TwitterErrors } from '../errors.js'
import { latestSnapshot, postsPage } from '../repositories/twitter.js'

export interface TwitterRoutesOptions {
  now: Clock
  pageSizeDefault: number
  pageSizeMax: number
  historyDefaultDays: number
  historyMaxDays: number
  historyMaxPoints: number
}

const ERROR_MEANINGS: Record<number, string> = {
  400: 'Invalid input; the message names the field',
  401: 'Not logged in',
  409: 'No X account is connected (code TWITTER_NOT_CONNECTED)',
  429: 'A refresh was requested less than a minute ago; retry after `retry-after` seconds',
  500: 'Something went wrong on our side',
  503: 'Storage is unavailable; retry after `retry-after` seconds'
}
const errors = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, { ...ErrorResponseSchema, description: ERROR_MEANINGS[code] }]))

const invalid = (message: string) => new TwitterErrors.Validation(message)

/** The logged-in user's own X account: overview, history, recent posts, manual refresh. */
export default async function twitterRoutes (app: FastifyInstance, options: TwitterRoutesOptions) {
  const db = app.db as Kysely<Database>
  const ingestDb = app.db as IngestDb
  const sizes = { defaultLimit: options.pageSizeDefault, maxLimit: options.pageSizeMax }

  /** The caller's tracked account, or 409 TWITTER_NOT_CONNECTED. */
  const connected = async (request: FastifyRequest): Promise<TrackedAccount> => {
    const account = await app.ingest.trackedAccount(requireIdentity(request).userId)
    if (account === undefined) throw new TwitterErrors.NotConnected()
    return account
  }

  app.get<{ Reply: TwitterOverview }>('/twitter/overview', {
    schema: {
      summary: 'X overview',
      description: 'The latest snapshot of the connected X account and the change of each number over 1, 7 and 30 days. ' +
        'engagementRate = (likes + reposts + replies + quotes) per recent own post, divided by followers. Numbers are null until the first refresh is stored.',
      tags: ['twitter'],
      response: { 200: { ...TwitterOverviewSchema, description: 'The latest numbers' }, ...errors(401, 409, 500, 503) }
    }
  }, async (request) => {
    const account = await connected(request)
    const overview = await readOverview(ingestDb, account.user_id, TWITTER_METRIC_COLUMNS, options.now())
    const row = overview.latest === undefined ? undefined : await latestSnapshot(db, account.user_id)
    return {
      connection: connectionOf(account),
      capturedAt: row?.captured_at.toISOString() ?? null,
      followers: row?.followers ?? null,
      following: row?.following ?? null,
      posts: row?.posts ?? null,
      listed: row?.listed ?? null,
      likes: row?.likes ?? null,
      engagementRate: row?.engagement_rate ?? null,
      postsSampled: row?.posts_sampled ?? null,
      change: changesOf(overview.change)
    }
  })

  app.get<{ Querystring: TwitterHistoryQuery, Reply: TwitterHistory }>('/twitter/history', {
    schema: {
      summary: 'X history of one number',
      description: 'One value per snapshot in [from, to], oldest first (default: the last 30 days). ' +
        'A long range is thinned to the last snapshot of equal buckets, so it stays a bounded number of points.',
      tags: ['twitter'],
      querystring: TwitterHistoryQuerySchema,
      response: { 200: { ...TwitterHistorySchema, description: 'The points of the metric' }, ...errors(400, 401, 409, 500, 503) }
    }
  }, async (request) => {
    const account = await connected(request)
    const { metric } = request.query
    const range = historyRange(request.query, options.now(), { defaultDays: options.historyDefaultDays, maxDays: options.historyMaxDays }, invalid)
    const points = await readHistory(ingestDb, account.user_id, TWITTER_METRIC_COLUMNS[metric], range.from, range.to, options.historyMaxPoints)
    return { metric, from: range.from.toISOString(), to: range.to.toISOString(), points: points.map((p) => ({ t: p.t.toISOString(), value: p.value })) }
  })

  app.get<{ Querystring: TwitterPostsQuery, Reply: TwitterPostList }>('/twitter/posts', {
    schema: {
      summary: 'Recent X posts with their numbers',
      description: 'The recent posts of the latest refresh (at most TWITTER_MAX_POSTS, never past X\'s 3,200), ' +
        'newest first or by engagement (likes + reposts + replies + quotes); paginated with an opaque cursor.',
      tags: ['twitter'],
      querystring: TwitterPostsQuerySchema,
      response: { 200: { ...TwitterPostListSchema, description: 'A page of posts' }, ...errors(400, 401, 409, 500, 503) }
    }
  }, async (request) => {
    const account = await connected(request)
    const page = pageRequest(request.query, sizes, invalid)
    const rows = await postsPage(db, account.user_id, request.query.sort ?? 'recent', page.offset, page.limit)
    const latest = await db.selectFrom('snapshots').select('captured_at').where('user_id', '=', account.user_id)
      .orderBy('captured_at', 'desc').limit(1).executeTakeFirst()
    const { items, nextCursor } = pageOf(rows, page)
    return {
      items: items.map((p) => ({
        id: p.post_id,
        text: p.text,
        createdAt: p.created_at?.toISOString() ?? null,
        isRepost: p.is_repost,
        likes: p.likes,
        reposts: p.reposts,
        replies: p.replies,
        quotes: p.quotes,
        bookmarks: p.bookmarks,
        impressions: p.impressions,
        engagement: p.engagement
      })),
      nextCursor,
      capturedAt: latest?.captured_at.toISOString() ?? null
    }
  })

  app.post<{ Reply: MetricsRefreshAccepted }>('/twitter/refresh', {
    schema: {
      summary: 'Refresh the X numbers now',
      description: 'Requests a refresh; a metrics.refreshed (or metrics.refresh.failed) live update follows. At most one per user per minute.',
      tags: ['twitter'],
      response: { 202: { ...MetricsRefreshAcceptedSchema, description: 'The refresh is requested' }, ...errors(401, 409, 429, 500, 503) }
    }
  }, async (request, reply) => {
    const { userId } = requireIdentity(request)
    const claim = await app.ingest.requestManualRefresh(userId)
    if (claim.outcome === 'not_connected') throw new TwitterErrors.NotConnected()
    if (claim.outcome === 'too_soon') {
      const seconds = Math.ceil(claim.retryAfterMs / 1000)
      void reply.header('retry-after', String(seconds))
      throw new TwitterErrors.RefreshTooSoon(seconds)
    }
    return reply.code(202).send({ requestedAt: claim.requestedAt.toISOString() })
  })
}
