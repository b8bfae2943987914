import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { TwitterOverviewSchema, TwitterPostListSchema, TwitterPostsQuerySchema } from '@pulse/contracts'
import { changesOf, connectionOf, readOverview, type IngestDb, type PageRequest } from '@pulse/ingest-kit'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import { TWITTER_METRIC_COLUMNS, type Database } from '../db/database.js'
import { readProfile } from '../repositories/profiles.js'
import { latestSnapshot, postsPage } from '../repositories/twitter.js'

/** The logged-in user's own X account: overview and lists (the kit serves history and manual refresh). */
export default async function twitterRoutes (fastify: FastifyInstance) {
  // Every route's request and reply types come from its schema.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const db = app.db as Kysely<Database>
  const ingestDb = app.db as IngestDb
  const { errorResponses: errors, connected, latestListPage, now } = app.ingestRoutes

  app.get('/twitter/overview', {
    schema: {
      summary: 'X overview',
      description: 'The latest snapshot of the connected X account and the change of each number over 1, 7 and 30 days. ' +
        'engagementRate = (likes + reposts + replies + quotes) per recent own post, divided by followers. Numbers are null until the first refresh is stored.',
      tags: ['twitter'],
      response: { 200: { ...TwitterOverviewSchema, description: 'The latest numbers' }, ...errors(401, 409, 500, 503) }
    }
  }, async (request) => {
    const account = await connected(request)
    const overview = await readOverview(ingestDb, account.user_id, TWITTER_METRIC_COLUMNS, now())
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
      profile: await readProfile(db, account.user_id),
      change: changesOf(overview.change)
    }
  })

  app.get('/twitter/posts', {
    schema: {
      summary: 'Recent X posts with their numbers',
      description: 'The recent posts of the latest refresh (at most TWITTER_MAX_POSTS, never past X\'s 3,200), ' +
        'newest first or by engagement (likes + reposts + replies + quotes); paginated with an opaque cursor.',
      tags: ['twitter'],
      querystring: TwitterPostsQuerySchema,
      response: { 200: { ...TwitterPostListSchema, description: 'A page of posts' }, ...errors(400, 401, 409, 500, 503) }
    }
  }, async (request) => {
    const read = async (userId: string, page: PageRequest) => await postsPage(db, userId, request.query.sort ?? 'recent', page.offset, page.limit)
    return await latestListPage(request, request.query, read, (p) => ({
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
    }))
  })
}
