import type { FastifyPluginAsync } from 'fastify'
import { twitchTime } from './clock.js'
import { HelixError, requireCaller, requireOwnAccount, requireUserScope } from './helix-auth.js'
import { videoJson } from './helix-format.js'
import { queryAll, queryOne } from './http.js'
import { parseFirst, slice } from './pagination.js'
import type { SimState } from './state.js'
import {
  bitsLeaderboard, bitsWindow, findSubscription, subscriptionAt, subscriptionSummary, videoById, videosOf,
  type BitsPeriod, type Subscription, type Video
} from './twitch-data.js'
import type { Persona } from './personas.js'

/** Get Broadcaster Subscriptions, Get Videos, Get Bits Leaderboard (docs/providers.md §1.3). */

const PLAN_NAMES: Record<Subscription['tier'], string> = {
  1000: 'Channel Subscription ({login})',
  2000: 'Channel Subscription ({login}): $9.99 Sub',
  3000: 'Channel Subscription ({login}): $24.99 Sub'
}

function subscriptionJson (broadcaster: Persona, sub: Subscription) {
  return {
    broadcaster_id: broadcaster.twitch.id,
    broadcaster_login: broadcaster.login,
    broadcaster_name: broadcaster.twitch.displayName,
    gifter_id: sub.gifter?.id ?? '',
    gifter_login: sub.gifter?.login ?? '',
    gifter_name: sub.gifter?.displayName ?? '',
    is_gift: sub.gifter !== undefined,
    tier: sub.tier,
    plan_name: PLAN_NAMES[sub.tier].replace('{login}', broadcaster.login),
    user_id: sub.user.id,
    user_name: sub.user.displayName,
    user_login: sub.user.login
  }
}

const PERIODS: readonly BitsPeriod[] = ['day', 'week', 'month', 'year', 'all']
const VIDEO_TYPES = ['all', 'archive', 'highlight', 'upload'] as const
const VIDEO_PERIODS = { all: Infinity, day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000 } as const
const VIDEO_SORTS = ['time', 'trending', 'views'] as const

function oneOf<T extends string> (value: string | undefined, allowed: readonly T[], fallback: T, name: string): T {
  if (value === undefined) return fallback
  if (!(allowed as readonly string[]).includes(value)) throw new HelixError(400, `The parameter "${name}" was malformed: the value must be one of ${allowed.join(', ')}`)
  return value as T
}

export const helixCreatorRoutes: FastifyPluginAsync<{ state: SimState }> = async (app, { state }) => {
  const { world } = state

  app.get('/subscriptions', async (request) => {
    const caller = requireOwnAccount(request, 'channel:read:subscriptions', 'broadcaster_id')
    const broadcaster = caller.persona
    const hour = state.hour()
    const summary = subscriptionSummary(world, broadcaster, hour)
    const userIds = queryAll(request, 'user_id')
    if (userIds.length > 100) throw new HelixError(400, 'The number of user_id parameters must not exceed 100')
    if (userIds.length > 0) {
      const found = userIds.map((id) => findSubscription(world, broadcaster, hour, id)).filter((s) => s !== undefined)
      return { data: found.map((s) => subscriptionJson(broadcaster, s)), pagination: {}, total: summary.total, points: summary.points }
    }
    const first = parseFirst(queryOne(request, 'first'), 20)
    const indexes = Array.from({ length: summary.total }, (_, k) => k)
    const page = slice(indexes, first, queryOne(request, 'after'), queryOne(request, 'before'))
    return {
      data: page.data.map((k) => subscriptionJson(broadcaster, subscriptionAt(world, broadcaster, k))),
      pagination: page.pagination,
      total: summary.total,
      points: summary.points
    }
  })

  app.get('/videos', async (request) => {
    requireCaller(request)
    const ids = queryAll(request, 'id')
    const userId = queryOne(request, 'user_id')
    const gameId = queryOne(request, 'game_id')
    if ([ids.length > 0, userId !== undefined, gameId !== undefined].filter(Boolean).length !== 1) {
      throw new HelixError(400, 'Exactly one of the id, user_id or game_id parameters must be specified')
    }
    const hour = state.hour()
    if (ids.length > 0) {
      if (ids.length > 100) throw new HelixError(400, 'The number of id parameters must not exceed 100')
      const found = ids.map((id) => videoById(world, id, hour)).filter((v) => v !== undefined)
      if (found.length === 0) throw new HelixError(404, 'Videos not found')
      return { data: found.map(videoJson), pagination: {} }
    }
    const type = oneOf(queryOne(request, 'type'), VIDEO_TYPES, 'all', 'type')
    const period = oneOf(queryOne(request, 'period'), Object.keys(VIDEO_PERIODS) as Array<keyof typeof VIDEO_PERIODS>, 'all', 'period')
    const sort = oneOf(queryOne(request, 'sort'), VIDEO_SORTS, 'time', 'sort')
    const language = queryOne(request, 'language')
    const first = parseFirst(queryOne(request, 'first'), 20)
    const now = state.clock.now()

    let videos: Video[]
    if (userId !== undefined) {
      const persona = world.personaByTwitchId(userId)
      videos = persona === undefined ? [] : videosOf(world, persona, hour)
    } else {
      videos = world.personas.flatMap((p) => videosOf(world, p, hour)).filter((v) => v.gameId === gameId)
      if (language !== undefined) videos = videos.filter((v) => v.language === language)
    }
    videos = videos.filter((v) => (type === 'all' || v.type === type) && now - v.createdAt <= VIDEO_PERIODS[period])
    if (sort === 'time') videos.sort((a, b) => b.createdAt - a.createdAt)
    else if (sort === 'views') videos.sort((a, b) => b.viewCount - a.viewCount)
    else videos.sort((a, b) => b.viewCount / Math.max(1, now - b.createdAt) - a.viewCount / Math.max(1, now - a.createdAt))
    const page = slice(videos, first, queryOne(request, 'after'), queryOne(request, 'before'))
    return { data: page.data.map(videoJson), pagination: page.pagination }
  })

  app.get('/bits/leaderboard', async (request) => {
    const caller = requireUserScope(request, 'bits:read')
    const count = parseFirst(queryOne(request, 'count'), 10, 100, 'count')
    const period = oneOf(queryOne(request, 'period'), PERIODS, 'all', 'period')
    const startedAtParam = queryOne(request, 'started_at')
    const startedAt = startedAtParam === undefined ? state.clock.now() : Date.parse(startedAtParam)
    if (Number.isNaN(startedAt)) throw new HelixError(400, 'The parameter "started_at" was malformed: the value must be an RFC3339 date-time')
    const userId = queryOne(request, 'user_id')
    let entries = bitsLeaderboard(world, caller.persona, state.hour(), period, startedAt, count)
    if (userId !== undefined) entries = entries.filter((e) => e.user.id === userId)
    const window = bitsWindow(period, startedAt)
    return {
      data: entries.map((e) => ({ user_id: e.user.id, user_login: e.user.login, user_name: e.user.displayName, rank: e.rank, score: e.score })),
      date_range: window === undefined ? { started_at: '', ended_at: '' } : { started_at: twitchTime(window.start), ended_at: twitchTime(window.end) },
      total: entries.length
    }
  })
}
