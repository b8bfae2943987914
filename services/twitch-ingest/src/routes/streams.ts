import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { TwitchListQuerySchema, TwitchStreamSessionListSchema } from '@pulse/contracts'
import { pageOf, pageRequest } from '@pulse/ingest-kit'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { listSessions } from '../repositories/stream-sessions.js'

/** The channel's stream sessions (EventSub stream.online → samples → stream.offline). */
export default async function streamRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const db = app.db as Kysely<Database>
  const { errorResponses: errors, invalid, connected, pageSizes, now } = app.ingestRoutes

  app.get('/twitch/streams', {
    schema: {
      summary: 'Twitch stream sessions',
      description: 'Each time the channel was live, newest first: start, end (null while live), length, game, and the peak and ' +
        'mean of the viewer counts sampled while live (every TWITCH_STREAM_SAMPLE_S). Filled from EventSub, so empty ' +
        'where EventSub is off. Paginated with an opaque cursor.',
      tags: ['twitch'],
      querystring: TwitchListQuerySchema,
      response: { 200: { ...TwitchStreamSessionListSchema, description: 'A page of stream sessions' }, ...errors(400, 401, 409, 500, 503) }
    }
  }, async (request) => {
    const account = await connected(request)
    const window = pageRequest(request.query, pageSizes, invalid)
    const rows = await listSessions(db, account.user_id, window.offset, window.limit + 1)
    const at = now()
    const { items, nextCursor } = pageOf(rows, window)
    return {
      items: items.map((r) => ({
        id: r.id,
        streamId: r.stream_id,
        startedAt: r.started_at.toISOString(),
        endedAt: r.ended_at?.toISOString() ?? null,
        durationSeconds: Math.max(0, Math.round(((r.ended_at?.getTime() ?? at) - r.started_at.getTime()) / 1000)),
        gameId: r.game_id,
        gameName: r.game_name,
        peakViewers: r.peak,
        averageViewers: r.average,
        samples: r.samples
      })),
      nextCursor
    }
  })
}
