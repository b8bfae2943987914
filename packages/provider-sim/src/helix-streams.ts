import type { FastifyPluginAsync } from 'fastify'
import { GAMES, boxArtUrl, gameById, type Game } from './games.js'
import { HelixError, requireCaller, requireOwnAccount } from './helix-auth.js'
import { streamJson } from './helix-format.js'
import { queryAll, queryOne } from './http.js'
import { parseFirst, slice } from './pagination.js'
import type { SimState } from './state.js'
import { currentStreams } from './eventsub-control.js'
import { topGames } from './twitch-data.js'

/** Get Streams, Get Followed Streams, Get Top Games, Get Games (docs/providers.md §1.3). */
export const helixStreamRoutes: FastifyPluginAsync<{ state: SimState }> = async (app, { state }) => {
  const { world } = state

  app.get('/streams', async (request) => {
    requireCaller(request)
    const userIds = queryAll(request, 'user_id')
    const logins = queryAll(request, 'user_login').map((l) => l.toLowerCase())
    const gameIds = queryAll(request, 'game_id')
    const languages = queryAll(request, 'language')
    for (const [name, values] of [['user_id', userIds], ['user_login', logins], ['game_id', gameIds], ['language', languages]] as const) {
      if (values.length > 100) throw new HelixError(400, `The number of ${name} parameters must not exceed 100`)
    }
    const type = queryOne(request, 'type') ?? 'all'
    // Enum values are case-sensitive (docs/providers.md §1.2).
    if (type !== 'all' && type !== 'live') throw new HelixError(400, 'The parameter "type" was malformed: the value must be one of all, live')
    const first = parseFirst(queryOne(request, 'first'), 20)
    const byUser = userIds.length + logins.length > 0
    const streams = currentStreams(state).filter((s) =>
      (!byUser || userIds.includes(s.persona.twitch.id) || logins.includes(s.persona.login)) &&
      (gameIds.length === 0 || gameIds.includes(s.gameId)) &&
      (languages.length === 0 || languages.includes(s.persona.twitch.language)))
    const page = slice(streams, first, queryOne(request, 'after'), queryOne(request, 'before'))
    return { data: page.data.map(streamJson), pagination: page.pagination }
  })

  app.get('/streams/followed', async (request) => {
    const caller = requireOwnAccount(request, 'user:read:follows', 'user_id')
    // The default page size here is 100, not 20 (docs/providers.md §1.3).
    const first = parseFirst(queryOne(request, 'first'), 100)
    const followed = new Set(caller.persona.twitch.follows.map((f) => f.persona))
    const streams = currentStreams(state).filter((s) => followed.has(s.persona.index))
    const page = slice(streams, first, queryOne(request, 'after'), undefined)
    return { data: page.data.map(streamJson), pagination: page.pagination }
  })

  /**
   * Get Games: by repeated `id`, `name` (exact, case-insensitive) or `igdb_id`, up to 100 together;
   * unknown ones are left out (an empty `data` when none is known), and there is no pagination.
   */
  app.get('/games', async (request) => {
    requireCaller(request)
    const ids = queryAll(request, 'id')
    const names = queryAll(request, 'name').map((n) => n.toLowerCase())
    const igdbIds = queryAll(request, 'igdb_id')
    const asked = ids.length + names.length + igdbIds.length
    if (asked === 0) throw new HelixError(400, 'Missing required parameter "id", "name" or "igdb_id"')
    if (asked > 100) throw new HelixError(400, 'The sum of the id, name and igdb_id parameters must not exceed 100')
    const found = new Map<string, Game>()
    for (const id of ids) { const game = gameById(id); if (game !== undefined) found.set(game.id, game) }
    for (const game of GAMES) {
      if (names.includes(game.name.toLowerCase()) || (game.igdbId !== '' && igdbIds.includes(game.igdbId))) found.set(game.id, game)
    }
    return { data: [...found.values()].map((g) => ({ id: g.id, name: g.name, box_art_url: boxArtUrl(g), igdb_id: g.igdbId })) }
  })

  app.get('/games/top', async (request) => {
    requireCaller(request)
    const first = parseFirst(queryOne(request, 'first'), 20)
    const page = slice(topGames(world, state.hour()), first, queryOne(request, 'after'), queryOne(request, 'before'))
    return {
      data: page.data.map((g) => ({ id: g.id, name: g.name, box_art_url: boxArtUrl(g), igdb_id: g.igdbId })),
      pagination: page.pagination
    }
  })
}
