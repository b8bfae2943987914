import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import {
  TwitchBitsLeaderboardSchema, TwitchListQuerySchema, TwitchLiveFollowListSchema,
  TwitchOverviewSchema, TwitchSubscriberListSchema, TwitchVideoListSchema
} from '@pulse/contracts'
import { changesOf, connectionOf, readOverview, type IngestDb } from '@pulse/ingest-kit'
import type { FastifyInstance } from 'fastify'
import type { Kysely, Selectable } from 'kysely'
import type { TSchema } from 'typebox'
import { TWITCH_METRIC_COLUMNS, type Database } from '../db/database.js'
import { readProfile } from '../repositories/profiles.js'
import { latestSnapshot, listPage } from '../repositories/twitch.js'

/** The logged-in user's own Twitch account: overview and lists (the kit serves history and manual refresh). */
export default async function twitchRoutes (fastify: FastifyInstance) {
  // Every route's request and reply types come from its schema.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const db = app.db as Kysely<Database>
  const ingestDb = app.db as IngestDb
  const { errorResponses: errors, connected, latestListPage, now } = app.ingestRoutes

  app.get('/twitch/overview', {
    schema: {
      summary: 'Twitch overview',
      description: 'The latest snapshot of the connected Twitch account and the change of each number over 1, 7 and 30 days. ' +
        'Numbers are null until the first refresh is stored, and subscribers without the channel:read:subscriptions scope.',
      tags: ['twitch'],
      response: { 200: { ...TwitchOverviewSchema, description: 'The latest numbers' }, ...errors(401, 409, 500, 503) }
    }
  }, async (request) => {
    const account = await connected(request)
    const overview = await readOverview(ingestDb, account.user_id, TWITCH_METRIC_COLUMNS, now())
    const row = overview.latest === undefined ? undefined : await latestSnapshot(db, account.user_id)
    return {
      connection: connectionOf(account),
      capturedAt: row?.captured_at.toISOString() ?? null,
      followers: row?.followers ?? null,
      subscribers: row === undefined || row.subscribers_total === null
        ? null
        : {
            total: row.subscribers_total,
            points: row.subscriber_points ?? 0,
            tiers: { 1000: row.subscribers_tier1 ?? 0, 2000: row.subscribers_tier2 ?? 0, 3000: row.subscribers_tier3 ?? 0 }
          },
      followedChannels: row?.followed_channels ?? null,
      videos: row === undefined ? null : { count: row.video_count, views: row.video_views },
      profile: await readProfile(db, account.user_id),
      change: changesOf(overview.change)
    }
  })

  /** A paginated list kept from the latest refresh. */
  const listRoute = <T extends 'videos' | 'subscribers' | 'bits_leaderboard' | 'live_follows', I>(
    path: string, table: T, schema: TSchema, summary: string, description: string, toItem: (row: Selectable<Database[T]>) => I
  ) => {
    app.get(path, {
      schema: {
        summary,
        description: `${description} From the latest refresh; paginated with an opaque cursor.`,
        tags: ['twitch'],
        querystring: TwitchListQuerySchema,
        response: { 200: { ...schema, description: 'A page of the list' }, ...errors(400, 401, 409, 500, 503) }
      }
    }, async (request) => await latestListPage(request, request.query, async (userId, page) => await listPage(db, table, userId, page.offset, page.limit), toItem))
  }

  listRoute('/twitch/videos', 'videos', TwitchVideoListSchema, 'Twitch videos', 'The channel\'s videos (archives, highlights, uploads), newest first.', (v) => ({
    id: v.video_id,
    title: v.title,
    type: v.type,
    url: v.url,
    thumbnailUrl: v.thumbnail_url,
    createdAt: v.created_at.toISOString(),
    publishedAt: v.published_at.toISOString(),
    viewCount: v.view_count,
    duration: v.duration
  }))

  listRoute('/twitch/subscribers', 'subscribers', TwitchSubscriberListSchema, 'Twitch subscribers', 'The channel\'s subscribers with their tier.', (s) => ({
    userId: s.subscriber_id,
    login: s.login,
    displayName: s.display_name,
    tier: s.tier,
    isGift: s.is_gift,
    gifterLogin: s.gifter_login
  }))

  listRoute('/twitch/bits-leaderboard', 'bits_leaderboard', TwitchBitsLeaderboardSchema, 'Twitch bits leaderboard', 'The all-time top cheerers, best first.', (b) => ({
    rank: b.rank,
    userId: b.viewer_id,
    login: b.login,
    displayName: b.display_name,
    score: b.score
  }))

  listRoute('/twitch/live-follows', 'live_follows', TwitchLiveFollowListSchema, 'Followed channels live now', 'Channels the account follows that were live at the latest refresh.', (s) => ({
    streamId: s.stream_id,
    broadcasterId: s.broadcaster_id,
    login: s.login,
    displayName: s.display_name,
    gameId: s.game_id,
    gameName: s.game_name,
    title: s.title,
    viewerCount: s.viewer_count,
    startedAt: s.started_at.toISOString(),
    language: s.language,
    thumbnailUrl: s.thumbnail_url
  }))
}
