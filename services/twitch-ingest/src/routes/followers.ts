import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { TwitchFollowerListSchema, TwitchListQuerySchema } from '@pulse/contracts'
import { latestCaptureTime, pageOf, pageRequest, type IngestDb } from '@pulse/ingest-kit'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { recentFollowersPage } from '../repositories/followers.js'

/** The channel's most recent followers, kept from the latest refresh. */
export default async function followerRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const db = app.db as Kysely<Database>
  const { errorResponses: errors, invalid, connected, settings } = app.ingestRoutes
  const sizes = { defaultLimit: settings.LIST_PAGE_SIZE_DEFAULT, maxLimit: settings.LIST_PAGE_SIZE_MAX }

  app.get('/twitch/followers', {
    schema: {
      summary: 'Twitch recent followers',
      description: 'The channel\'s most recent followers (up to TWITCH_RECENT_FOLLOWERS), newest first, with when each followed. ' +
        'From the latest refresh; empty when the token lacks moderator:read:followers. Paginated with an opaque cursor.',
      tags: ['twitch'],
      querystring: TwitchListQuerySchema,
      response: { 200: { ...TwitchFollowerListSchema, description: 'A page of the recent followers' }, ...errors(400, 401, 409, 500, 503) }
    }
  }, async (request) => {
    const account = await connected(request)
    const page = pageRequest(request.query, sizes, invalid)
    const rows = await recentFollowersPage(db, account.user_id, page.offset, page.limit)
    const capturedAt = await latestCaptureTime(app.db as IngestDb, account.user_id)
    const { items, nextCursor } = pageOf(rows, page)
    return {
      items: items.map((f) => ({ userId: f.follower_id, login: f.login, displayName: f.display_name, followedAt: f.followed_at.toISOString() })),
      nextCursor,
      capturedAt: capturedAt?.toISOString() ?? null
    }
  })
}
