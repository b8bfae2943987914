import type { FastifyPluginAsync } from 'fastify'
import { createEventSubControl, eventsubControlRoutes, revokeTwitchAuthorization, type EventSubControl } from './eventsub-control.js'
import type { FaultStatus } from './faults.js'
import type { SimState } from './state.js'
import { followerTotal, subscriptionSummary, videosOf, type Tier } from './twitch-data.js'
import { xMetrics } from './x-data.js'

/**
 * The control surface for tests: the simulator's clock, planned failures, revoked grants, call
 * counts and the numbers a dashboard should show. In process as `SimControl`; over HTTP under
 * `/_sim/…` when enabled (it is off in the standalone server unless SIM_CONTROL=true).
 */
export interface ExpectedTwitch {
  userId: string
  login: string
  displayName: string
  followers: number
  subscribers: { total: number, points: number, tiers: Record<Tier, number> }
  followedChannels: number
  videos: { count: number, views: number }
}

export interface ExpectedTwitter {
  userId: string
  username: string
  followers: number
  following: number
  posts: number
  listed: number
  /** The user's `public_metrics.like_count`: posts this user has liked. */
  likes: number
}

export interface SimControl extends EventSubControl {
  now(): number
  setClock(ms: number): void
  advanceClock(ms: number): void
  failNext(endpoint: string, count: number, status: FaultStatus): void
  revokeGrant(provider: 'twitch' | 'twitter', login: string): void
  callCounts(): Record<string, number>
  /** The counts of calls, and the most provider calls in flight at once, start again from here. */
  resetCounts(): void
  /** Every provider answer comes this much later (a provider across the world); 0 to stop. */
  setLatency(ms: number): void
  /** The most provider calls in flight at once since the counts were last reset. */
  maxInFlight(): number
  /** Calls that started with no other call in flight since the counts were reset: one client's sequential round trips. */
  waves(): number
  expectedTwitch(login: string): ExpectedTwitch
  expectedTwitter(login: string): ExpectedTwitter
}

export function createControl (state: SimState): SimControl {
  const { world, clock } = state
  return {
    ...createEventSubControl(state),
    now: () => clock.now(),
    setClock: (ms) => clock.set(ms),
    advanceClock: (ms) => clock.advance(ms),
    failNext: (endpoint, count, status) => {
      // Before the app is ready no route is known yet; afterwards a typo is an error, not a no-op.
      if (state.endpoints.size > 0 && !state.endpoints.has(endpoint)) {
        throw new Error(`unknown endpoint "${endpoint}"; known: ${[...state.endpoints].sort().join(', ')}`)
      }
      state.faults.failNext(endpoint, count, status)
    },
    revokeGrant: (provider, login) => {
      const persona = world.requirePersona(login)
      if (provider === 'twitch') revokeTwitchAuthorization(state, persona)
      else if (provider === 'twitter') {
        state.xTokens.revokeUser(persona.x.id)
        state.xOAuth2.revokeUser(persona.x.id)
      }
      else throw new Error(`unknown provider: ${String(provider)}`)
    },
    callCounts: () => state.calls.snapshot(),
    resetCounts: () => state.calls.reset(),
    setLatency: (ms) => {
      if (!Number.isInteger(ms) || ms < 0) throw new Error('latency must be a whole number of ms ≥ 0')
      state.calls.latencyMs = ms
    },
    maxInFlight: () => state.calls.maxInFlight,
    waves: () => state.calls.waves,
    expectedTwitch: (login) => {
      const persona = world.requirePersona(login)
      const hour = state.hour()
      const subs = subscriptionSummary(world, persona, hour)
      const videos = videosOf(world, persona, hour)
      return {
        userId: persona.twitch.id,
        login: persona.login,
        displayName: persona.twitch.displayName,
        followers: followerTotal(world, persona, hour),
        subscribers: { total: subs.total, points: subs.points, tiers: { ...subs.tiers } },
        followedChannels: persona.twitch.follows.length,
        videos: { count: videos.length, views: videos.reduce((sum, v) => sum + v.viewCount, 0) }
      }
    },
    expectedTwitter: (login) => {
      const persona = world.requirePersona(login)
      const metrics = xMetrics(world, persona, state.hour())
      return {
        userId: persona.x.id,
        username: persona.login,
        followers: metrics.followers_count,
        following: metrics.following_count,
        posts: metrics.tweet_count,
        listed: metrics.listed_count,
        likes: metrics.like_count
      }
    }
  }
}

const clockBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    set: { anyOf: [{ type: 'number' }, { type: 'string', format: 'date-time' }] },
    advance: { type: 'number' }
  }
} as const

const failBody = {
  type: 'object',
  additionalProperties: false,
  required: ['endpoint', 'count', 'status'],
  properties: {
    endpoint: { type: 'string', minLength: 1 },
    count: { type: 'integer', minimum: 0 },
    status: { type: 'integer', enum: [500, 503, 429] }
  }
} as const

const revokeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['provider', 'login'],
  properties: { provider: { type: 'string', enum: ['twitch', 'twitter'] }, login: { type: 'string', minLength: 1 } }
} as const

/** The `/_sim` routes: the same operations as `SimControl`, as JSON. Never registered unless enabled. */
export const controlRoutes: FastifyPluginAsync<{ state: SimState, control: SimControl }> = async (app, { state, control }) => {
  const clockAnswer = () => ({ now: control.now(), iso: new Date(control.now()).toISOString(), hour: state.hour() })
  const badRequest = (message: string) => ({ statusCode: 400, error: 'Bad Request', message })

  app.get('/clock', async () => clockAnswer())

  app.post<{ Body: { set?: number | string, advance?: number } }>('/clock', { schema: { body: clockBody } }, async (request) => {
    const { set, advance } = request.body
    if (set !== undefined) control.setClock(typeof set === 'number' ? set : Date.parse(set))
    if (advance !== undefined) control.advanceClock(advance)
    return clockAnswer()
  })

  app.post<{ Body: { endpoint: string, count: number, status: FaultStatus } }>('/fail', { schema: { body: failBody } }, async (request, reply) => {
    try {
      control.failNext(request.body.endpoint, request.body.count, request.body.status)
    } catch (error) {
      return reply.code(400).send(badRequest((error as Error).message))
    }
    return reply.code(204).send()
  })

  app.post<{ Body: { provider: 'twitch' | 'twitter', login: string } }>('/revoke', { schema: { body: revokeBody } }, async (request, reply) => {
    try {
      control.revokeGrant(request.body.provider, request.body.login)
    } catch (error) {
      return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: (error as Error).message })
    }
    return reply.code(204).send()
  })

  await app.register(eventsubControlRoutes, { state, control })

  app.put<{ Body: { ms: number } }>('/latency', {
    schema: { body: { type: 'object', required: ['ms'], additionalProperties: false, properties: { ms: { type: 'integer', minimum: 0, maximum: 60_000 } } } }
  }, async (request) => {
    control.setLatency(request.body.ms)
    return { ms: request.body.ms }
  })
  app.get('/in-flight', async () => ({ max: control.maxInFlight(), waves: control.waves() }))

  app.get('/calls', async () => control.callCounts())
  app.delete('/calls', async (_request, reply) => {
    control.resetCounts()
    return reply.code(204).send()
  })

  app.get<{ Params: { provider: string, login: string } }>('/expected/:provider/:login', async (request, reply) => {
    const { provider, login } = request.params
    if (state.world.persona(login) === undefined) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `unknown simulated login: ${login}` })
    if (provider === 'twitch') return control.expectedTwitch(login)
    if (provider === 'twitter') return control.expectedTwitter(login)
    return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `unknown provider: ${provider}` })
  })

  /** The simulated accounts, so a person or a test can see who exists. */
  app.get('/users', async () => state.world.personas.map((p) => ({
    login: p.login, profile: p.profile, twitchId: p.twitch.id, twitterId: p.x.id, displayName: p.twitch.displayName
  })))
}
