import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import {
  ErrorResponseSchema, TwitchLookupGameSchema, TwitchLookupIdParamsSchema, TwitchLookupStreamListSchema, TwitchLookupStreamsQuerySchema,
  TwitchLookupUserQuerySchema, TwitchLookupUserSchema
} from '@pulse/contracts'
import { ProviderRateLimitedError, ProviderRequestError, ProviderUnavailableError, type Clock } from '@pulse/ingest-kit'
import { requireIdentity } from '@pulse/service-kit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { TwitchErrors } from '../errors.js'
import type { Fetched, TwitchLookups } from '../lookups.js'
import { streamOf } from './top.js'

export interface LookupRoutesOptions {
  lookups: TwitchLookups
  now: Clock
  /** `limit` of the streams of a category when none is asked (Helix allows 1 to 100). */
  pageSizeDefault: number
}

const ERROR_MEANINGS: Record<number, string> = {
  400: 'Invalid input; the message names the field',
  401: 'Not logged in',
  404: 'Twitch has no such user or category (code TWITCH_LOOKUP_NOT_FOUND)',
  500: 'Something went wrong on our side',
  503: 'Twitch is unavailable or Pulse\'s rate-limit budget is spent, and nothing is cached (code TWITCH_PROVIDER_UNAVAILABLE); retry after `retry-after` seconds'
}
const errors = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, { ...ErrorResponseSchema, description: ERROR_MEANINGS[code] }]))

/** Helix's most per page. */
const MAX_PAGE = 100

/**
 * Look-ups on Twitch for any logged-in user, whether or not they connected Twitch: a user by login
 * or id, a category by id, the live streams of a category. Fetched with the app's token, cached in
 * Redis for TWITCH_LOOKUP_CACHE_S (lookups.ts).
 */
export default async function lookupRoutes (fastify: FastifyInstance, { lookups, now, pageSizeDefault }: LookupRoutesOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  /** Twitch's answer, or 503 with retry-after when Twitch cannot be asked and nothing is cached. */
  const ask = async <T>(request: FastifyRequest, reply: FastifyReply, lookup: () => Promise<Fetched<T>>): Promise<Fetched<T>> => {
    try {
      return await lookup()
    } catch (error) {
      if (error instanceof ProviderUnavailableError || error instanceof ProviderRateLimitedError || error instanceof ProviderRequestError) {
        request.log.warn({ err: error }, 'twitch look-up failed')
        const seconds = error instanceof ProviderRateLimitedError ? Math.max(1, Math.ceil((error.retryAt - now()) / 1000)) : 30
        void reply.header('retry-after', String(seconds))
        throw new TwitchErrors.ProviderUnavailable()
      }
      throw error
    }
  }

  app.get('/twitch/lookup/users', {
    schema: {
      summary: 'Look up a Twitch user',
      description: 'A Twitch user by `login` or by `id` (exactly one): profile, avatar, description, creation date and broadcaster type. ' +
        'For any logged-in user; cached for TWITCH_LOOKUP_CACHE_S seconds.',
      tags: ['twitch'],
      querystring: TwitchLookupUserQuerySchema,
      response: { 200: { ...TwitchLookupUserSchema, description: 'The user' }, ...errors(400, 401, 404, 500, 503) }
    }
  }, async (request, reply) => {
    requireIdentity(request)
    const { login, id } = request.query
    if (login === undefined && id === undefined) throw new TwitchErrors.Validation('querystring/login or querystring/id is required')
    if (login !== undefined && id !== undefined) throw new TwitchErrors.Validation('querystring/login and querystring/id cannot be used together')
    const found = await ask(request, reply, async () => await lookups.user(login !== undefined ? { login } : { id: id! }))
    const user = found.value
    if (user === null) throw new TwitchErrors.LookupNotFound('user')
    return {
      id: user.id,
      login: user.login,
      displayName: user.display_name,
      profileImageUrl: user.profile_image_url ?? '',
      description: user.description ?? '',
      createdAt: new Date(user.created_at ?? 0).toISOString(),
      broadcasterType: user.broadcaster_type === 'partner' ? 'partner' as const : user.broadcaster_type === 'affiliate' ? 'affiliate' as const : '' as const,
      fetchedAt: new Date(found.fetchedAt).toISOString()
    }
  })

  app.get('/twitch/lookup/games/:id', {
    schema: {
      summary: 'Look up a Twitch category',
      description: 'A category (game) by its id. For any logged-in user; cached for TWITCH_LOOKUP_CACHE_S seconds.',
      tags: ['twitch'],
      params: TwitchLookupIdParamsSchema,
      response: { 200: { ...TwitchLookupGameSchema, description: 'The category' }, ...errors(400, 401, 404, 500, 503) }
    }
  }, async (request, reply) => {
    requireIdentity(request)
    const found = await ask(request, reply, async () => await lookups.game(request.params.id))
    const game = found.value
    if (game === null) throw new TwitchErrors.LookupNotFound('category')
    return { id: game.id, name: game.name, boxArtUrl: game.box_art_url, igdbId: game.igdb_id ?? '', fetchedAt: new Date(found.fetchedAt).toISOString() }
  })

  app.get('/twitch/lookup/games/:id/streams', {
    schema: {
      summary: 'Live streams of a Twitch category',
      description: 'The category\'s live streams, most viewers first, a page at a time (`limit` 1 to 100; `cursor` from the previous page). ' +
        'An unknown category has no streams. For any logged-in user; cached for TWITCH_LOOKUP_CACHE_S seconds.',
      tags: ['twitch'],
      params: TwitchLookupIdParamsSchema,
      querystring: TwitchLookupStreamsQuerySchema,
      response: { 200: { ...TwitchLookupStreamListSchema, description: 'A page of live streams' }, ...errors(400, 401, 500, 503) }
    }
  }, async (request, reply) => {
    requireIdentity(request)
    const limit = request.query.limit ?? pageSizeDefault
    if (limit > MAX_PAGE) throw new TwitchErrors.Validation(`querystring/limit must be <= ${MAX_PAGE}`)
    const { cursor } = request.query
    const found = await ask(request, reply, async () => {
      try {
        return await lookups.streams(request.params.id, Math.min(limit, MAX_PAGE), cursor)
      } catch (error) {
        // Twitch refuses a cursor it did not give (400): the caller's mistake, not Twitch being down.
        if (cursor !== undefined && error instanceof ProviderRequestError && error.status === 400) throw new TwitchErrors.Validation('querystring/cursor is not a cursor this list returned')
        throw error
      }
    })
    return {
      items: found.value.data.map(streamOf),
      nextCursor: found.value.cursor,
      fetchedAt: new Date(found.fetchedAt).toISOString()
    }
  })
}
