import type { FastifyPluginAsync } from 'fastify'
import { twitchTime } from './clock.js'
import { helixError } from './errors.js'
import { gameById } from './games.js'
import { HelixError, requireCaller, requireOwnAccount } from './helix-auth.js'
import { userJson } from './helix-format.js'
import { queryAll, queryOne } from './http.js'
import { pageOf, parseFirst, slice } from './pagination.js'
import type { SimState } from './state.js'
import {
  findFollower, followedChannels, followerAt, followerTotal, liveStream, twitchUserById, twitchUserByLogin, type TwitchUserRecord
} from './twitch-data.js'

/** Get Users, Get Channel Information, Get Channel Followers, Get Followed Channels (docs/providers.md §1.3). */
export const helixUserRoutes: FastifyPluginAsync<{ state: SimState }> = async (app, { state }) => {
  const { world } = state

  app.get('/users', async (request) => {
    const caller = requireCaller(request)
    const ids = queryAll(request, 'id')
    const logins = queryAll(request, 'login')
    if (ids.length + logins.length > 100) throw new HelixError(400, 'The sum of the id and login parameters must not exceed 100')
    let users: TwitchUserRecord[]
    if (ids.length + logins.length === 0) {
      // No parameters and a user token: the token's user. An app token has no user.
      if (caller.userId === undefined) throw new HelixError(400, 'Must provide an ID, Login or OAuth Token.')
      users = [twitchUserById(world, caller.userId)].filter((u) => u !== undefined)
    } else {
      users = [...ids.map((id) => twitchUserById(world, id)), ...logins.map((login) => twitchUserByLogin(world, login))].filter((u) => u !== undefined)
    }
    const seen = new Set<string>()
    const unique = users.filter((u) => !seen.has(u.id) && seen.add(u.id))
    // `email` only for the token's own user, and only with user:read:email.
    const canSeeEmail = caller.scopes.includes('user:read:email')
    return { data: unique.map((u) => userJson(u, canSeeEmail && u.id === caller.userId ? `${u.login}@example.com` : undefined)) }
  })

  app.get('/channels', async (request) => {
    requireCaller(request)
    const ids = queryAll(request, 'broadcaster_id')
    if (ids.length === 0) throw new HelixError(400, 'Missing required parameter "broadcaster_id"')
    if (ids.length > 100) throw new HelixError(400, 'The number of broadcaster_id parameters must not exceed 100')
    const hour = state.hour()
    const data = ids.map((id) => twitchUserById(world, id)).filter((u) => u !== undefined).map((user) => {
      const persona = user.persona
      const live = persona === undefined ? undefined : liveStream(world, persona, hour)
      const gameId = live?.gameId ?? persona?.twitch.games[0] ?? ''
      return {
        broadcaster_id: user.id,
        broadcaster_login: user.login,
        broadcaster_name: user.displayName,
        broadcaster_language: persona?.twitch.language ?? 'en',
        game_id: gameId,
        game_name: gameById(gameId)?.name ?? '',
        title: live?.title ?? '',
        delay: 0,
        tags: live?.tags ?? [],
        content_classification_labels: [],
        is_branded_content: false
      }
    })
    return { data }
  })

  /**
   * The followers trap (docs/providers.md §1.3, §3.4): without moderator:read:followers, or when the
   * token's user is neither the broadcaster nor one of its moderators, the call still succeeds
   * but carries only `total`, with `data: []`. Asking about one `user_id` that way is an error.
   */
  app.get('/channels/followers', async (request) => {
    const caller = requireCaller(request)
    const broadcasterId = queryOne(request, 'broadcaster_id')
    if (broadcasterId === undefined || broadcasterId === '') throw new HelixError(400, 'Missing required parameter "broadcaster_id"')
    const first = parseFirst(queryOne(request, 'first'), 20)
    const after = queryOne(request, 'after')
    const userId = queryOne(request, 'user_id')
    const broadcaster = world.personaByTwitchId(broadcasterId)
    if (broadcaster === undefined) return { total: 0, data: [], pagination: {} }
    const hour = state.hour()
    const total = followerTotal(world, broadcaster, hour)
    const isModerator = caller.persona !== undefined && broadcaster.twitch.moderators.includes(caller.persona.index)
    const allowed = caller.scopes.includes('moderator:read:followers') && (caller.userId === broadcasterId || isModerator)
    if (!allowed) {
      if (userId !== undefined) {
        throw new HelixError(401, caller.scopes.includes('moderator:read:followers')
          ? 'The user in the access token must be the broadcaster or one of the broadcaster\'s moderators'
          : 'Missing scope: moderator:read:followers')
      }
      return { total, data: [], pagination: {} }
    }
    const entry = (f: { user: TwitchUserRecord, followedAt: number }) => ({
      user_id: f.user.id, user_name: f.user.displayName, user_login: f.user.login, followed_at: twitchTime(f.followedAt)
    })
    if (userId !== undefined) {
      const found = findFollower(world, broadcaster, hour, userId)
      return { total, data: found === undefined ? [] : [entry(found)], pagination: {} }
    }
    const page = pageOf(total, first, after, undefined)
    const data = []
    for (let offset = page.start; offset < page.end; offset++) data.push(entry(followerAt(world, broadcaster, hour, offset)))
    return { total, data, pagination: page.pagination }
  })

  app.get('/channels/followed', async (request) => {
    const caller = requireOwnAccount(request, 'user:read:follows', 'user_id')
    const first = parseFirst(queryOne(request, 'first'), 20)
    const broadcasterId = queryOne(request, 'broadcaster_id')
    const all = followedChannels(world, caller.persona)
    const matching = broadcasterId === undefined ? all : all.filter((f) => f.broadcaster.id === broadcasterId)
    const page = slice(matching, first, queryOne(request, 'after'), undefined)
    return {
      total: all.length,
      data: page.data.map((f) => ({
        broadcaster_id: f.broadcaster.id,
        broadcaster_login: f.broadcaster.login,
        broadcaster_name: f.broadcaster.displayName,
        followed_at: twitchTime(f.followedAt)
      })),
      pagination: page.pagination
    }
  })

  // Get Users Follows was decommissioned on 2023-09-12; twitch-cli's mock answers 410 (docs/providers.md §1.3).
  app.get('/users/follows', { config: { gone: true } }, async (_request, reply) => {
    return reply.code(410).send(helixError(410, 'The API is deprecated.'))
  })
}
