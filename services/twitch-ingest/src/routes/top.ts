import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ErrorResponseSchema, TwitchListQuerySchema, TwitchTopGameListSchema, TwitchTopStreamListSchema, type TwitchListQuery } from '@pulse/contracts'
import { ProviderRateLimitedError, ProviderRequestError, ProviderUnavailableError, pageOf, pageRequest } from '@pulse/ingest-kit'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify'
import { TwitchErrors } from '../errors.js'
import type { HelixStream } from '../helix/schemas.js'
import type { CachedList, TopLists } from '../top-lists.js'

/** A live stream as the API shows it (TwitchTopStreamSchema), from Helix's Get Streams. */
export const streamOf = (s: HelixStream) => ({
  streamId: s.id,
  broadcasterId: s.user_id,
  login: s.user_login,
  displayName: s.user_name,
  gameId: s.game_id,
  gameName: s.game_name,
  title: s.title,
  viewerCount: s.viewer_count,
  startedAt: new Date(s.started_at).toISOString(),
  language: s.language,
  thumbnailUrl: s.thumbnail_url
})

export interface TopRoutesOptions {
  topLists: TopLists
  pageSizeDefault: number
  pageSizeMax: number
}

const ERROR_MEANINGS: Record<number, string> = {
  400: 'Invalid input; the message names the field',
  500: 'Something went wrong on our side',
  503: 'Twitch is unavailable and nothing is cached yet (code TWITCH_PROVIDER_UNAVAILABLE); retry after `retry-after` seconds'
}
const errors = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, { ...ErrorResponseSchema, description: ERROR_MEANINGS[code] }]))

/** What is popular on Twitch now: public (no login), fetched with the app's own token and cached. */
export default async function topRoutes (fastify: FastifyInstance, { topLists, pageSizeDefault, pageSizeMax }: TopRoutesOptions) {
  // Every route's request and reply types come from its schema.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const sizes = { defaultLimit: pageSizeDefault, maxLimit: pageSizeMax }

  const page = async <T, I>(request: { query: TwitchListQuery, log: FastifyBaseLogger }, reply: FastifyReply, list: CachedList<T>, toItem: (item: T) => I) => {
    const window = pageRequest(request.query, sizes, (message) => new TwitchErrors.Validation(message))
    let cached: { items: T[], fetchedAt: number }
    try {
      cached = await list.get()
    } catch (error) {
      if (error instanceof ProviderUnavailableError || error instanceof ProviderRateLimitedError || error instanceof ProviderRequestError) {
        request.log.warn({ err: error }, 'top list unavailable')
        void reply.header('retry-after', '30')
        throw new TwitchErrors.ProviderUnavailable()
      }
      throw error
    }
    const { items, nextCursor } = pageOf(cached.items.slice(window.offset, window.offset + window.limit + 1), window)
    return {
      items: items.map(toItem),
      nextCursor,
      fetchedAt: new Date(cached.fetchedAt).toISOString()
    }
  }

  app.get('/twitch/top-streams', {
    config: { public: true },
    schema: {
      summary: 'Top live streams on Twitch',
      description: 'Live streams with the most viewers now. No login needed; cached for TWITCH_TOP_CACHE_S seconds.',
      tags: ['twitch'],
      security: [],
      querystring: TwitchListQuerySchema,
      response: { 200: { ...TwitchTopStreamListSchema, description: 'A page of the top streams' }, ...errors(400, 500, 503) }
    }
  }, async (request, reply) => await page(request, reply, topLists.streams, streamOf))

  app.get('/twitch/top-games', {
    config: { public: true },
    schema: {
      summary: 'Top categories on Twitch',
      description: 'The categories watched most now. No login needed; cached for TWITCH_TOP_CACHE_S seconds.',
      tags: ['twitch'],
      security: [],
      querystring: TwitchListQuerySchema,
      response: { 200: { ...TwitchTopGameListSchema, description: 'A page of the top categories' }, ...errors(400, 500, 503) }
    }
  }, async (request, reply) => await page(request, reply, topLists.games, (g) => ({
    id: g.id,
    name: g.name,
    boxArtUrl: g.box_art_url,
    igdbId: g.igdb_id ?? ''
  })))
}
