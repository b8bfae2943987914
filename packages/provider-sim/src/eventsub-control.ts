import type { FastifyPluginAsync } from 'fastify'
import { audienceAccount, AUDIENCE_SIZE } from './audience.js'
import { twitchTime } from './clock.js'
import { DELIVERY_MODES, EVENTSUB_TYPES, type DeliveryMode, type DeliveryRecord } from './eventsub.js'
import { gameById } from './games.js'
import type { Persona } from './personas.js'
import type { SimState } from './state.js'
import { liveStreams, type LiveStream, type Tier } from './twitch-data.js'

/**
 * Things happening on Twitch, made by a test: a follow, a subscription, a gift, a cheer, a stream
 * starting and ending, a user taking back their authorization. Each one is delivered to the
 * matching EventSub subscriptions; streams also show in Get Streams while they last.
 */

export interface EventSubControl {
  follow(broadcaster: string, user?: string): Promise<EventOutcome>
  subscribe(broadcaster: string, tier: Tier, user?: string): Promise<EventOutcome>
  gift(broadcaster: string, total: number, tier: Tier, options?: { user?: string, anonymous?: boolean }): Promise<EventOutcome>
  cheer(broadcaster: string, bits: number, options?: { user?: string, anonymous?: boolean, message?: string }): Promise<EventOutcome>
  streamOnline(broadcaster: string, viewers: number, gameId?: string): Promise<EventOutcome>
  setViewers(broadcaster: string, viewers: number): void
  streamOffline(broadcaster: string): Promise<EventOutcome>
  setDeliveryMode(mode: DeliveryMode): void
  deliveries(): DeliveryRecord[]
  /** Resolves once no delivery is in flight or waiting for a retry. */
  deliveriesSettled(): Promise<void>
}

/** How many subscriptions an event was sent to. */
export interface EventOutcome { delivered: number }

/** Get Streams with the streams a test started or ended laid over the seeded schedule. */
export function currentStreams (state: SimState): LiveStream[] {
  const seeded = liveStreams(state.world, state.hour()).filter((s) => !state.streamOverrides.has(s.persona.index))
  const started = [...state.streamOverrides.values()].filter((s): s is LiveStream => s !== null)
  return [...seeded, ...started].sort((a, b) => b.viewerCount - a.viewerCount || a.id.localeCompare(b.id))
}

function broadcasterFields (persona: Persona) {
  return { broadcaster_user_id: persona.twitch.id, broadcaster_user_login: persona.login, broadcaster_user_name: persona.twitch.displayName }
}

export function createEventSubControl (state: SimState): EventSubControl {
  const { world, eventsub } = state
  let nextViewer = 0

  /** A named persona, or a viewer from the audience nobody has used yet. */
  const userFields = (login: string | undefined) => {
    if (login !== undefined) {
      const persona = world.requirePersona(login)
      return { user_id: persona.twitch.id, user_login: persona.login, user_name: persona.twitch.displayName }
    }
    const account = audienceAccount(world.seed, (AUDIENCE_SIZE - 1 - nextViewer++) % AUDIENCE_SIZE)
    return { user_id: account.id, user_login: account.login, user_name: account.displayName }
  }
  const anonymousFields = { user_id: null, user_login: null, user_name: null }
  const settle = async (delivered: number): Promise<EventOutcome> => ({ delivered })
  const send = (type: string, persona: Persona, event: Record<string, unknown>) =>
    eventsub.notify(type, { broadcaster_user_id: persona.twitch.id }, event)

  return {
    follow: (broadcaster, user) => {
      const persona = world.requirePersona(broadcaster)
      return settle(send('channel.follow', persona, { ...userFields(user), ...broadcasterFields(persona), followed_at: twitchTime(state.clock.now()) }))
    },
    subscribe: (broadcaster, tier, user) => {
      const persona = world.requirePersona(broadcaster)
      return settle(send('channel.subscribe', persona, { ...userFields(user), ...broadcasterFields(persona), tier, is_gift: false }))
    },
    gift: (broadcaster, total, tier, options = {}) => {
      const persona = world.requirePersona(broadcaster)
      const anonymous = options.anonymous === true
      let delivered = send('channel.subscription.gift', persona, {
        ...(anonymous ? anonymousFields : userFields(options.user)), ...broadcasterFields(persona),
        total, tier, cumulative_total: anonymous ? null : total, is_anonymous: anonymous
      })
      // Each gifted subscription also arrives as a channel.subscribe with is_gift.
      for (let i = 0; i < total; i++) delivered += send('channel.subscribe', persona, { ...userFields(undefined), ...broadcasterFields(persona), tier, is_gift: true })
      return settle(delivered)
    },
    cheer: (broadcaster, bits, options = {}) => {
      const persona = world.requirePersona(broadcaster)
      const anonymous = options.anonymous === true
      return settle(send('channel.cheer', persona, {
        is_anonymous: anonymous, ...(anonymous ? anonymousFields : userFields(options.user)), ...broadcasterFields(persona),
        message: options.message ?? `Cheer${bits}`, bits
      }))
    },
    streamOnline: (broadcaster, viewers, gameId) => {
      const persona = world.requirePersona(broadcaster)
      const game = gameId ?? persona.twitch.games[0] ?? '509658'
      if (gameById(game) === undefined) throw new Error(`unknown game id: ${game}`)
      const stream: LiveStream = {
        id: String(41_000_000_000 + Math.floor(state.clock.now() / 1000) % 1_000_000_000),
        persona,
        startedAt: state.clock.now(),
        gameId: game,
        title: `Live now: ${persona.twitch.displayName}`,
        viewerCount: viewers,
        tags: ['English']
      }
      state.streamOverrides.set(persona.index, stream)
      return settle(send('stream.online', persona, { id: stream.id, ...broadcasterFields(persona), type: 'live', started_at: twitchTime(stream.startedAt) }))
    },
    setViewers: (broadcaster, viewers) => {
      const persona = world.requirePersona(broadcaster)
      const stream = state.streamOverrides.get(persona.index)
      if (stream === undefined || stream === null) throw new Error(`${broadcaster} is not live through the control surface`)
      stream.viewerCount = viewers
    },
    streamOffline: (broadcaster) => {
      const persona = world.requirePersona(broadcaster)
      state.streamOverrides.set(persona.index, null)
      return settle(send('stream.offline', persona, broadcasterFields(persona)))
    },
    setDeliveryMode: (mode) => {
      if (!DELIVERY_MODES.includes(mode)) throw new Error(`unknown delivery mode: ${String(mode)}`)
      eventsub.mode = mode
    },
    deliveries: () => [...eventsub.deliveries],
    deliveriesSettled: () => eventsub.idle()
  }
}

/**
 * The user took back their authorization of the apps: user.authorization.revoke goes to each client
 * they had authorized, and every subscription that needed their authorization is revoked.
 */
export function revokeTwitchAuthorization (state: SimState, persona: Persona): void {
  const userId = persona.twitch.id
  const clients = state.twitchTokens.clientsOf(userId)
  state.twitchTokens.revokeUser(userId)
  for (const sub of state.eventsub.subscriptions.values()) {
    const rule = EVENTSUB_TYPES[sub.type]?.[sub.version]
    if (rule?.authorizer !== undefined && sub.condition[rule.authorizer.key] === userId && clients.has(sub.clientId)) {
      state.eventsub.revoke(sub, 'authorization_revoked')
    }
  }
  for (const clientId of clients) {
    state.eventsub.notify('user.authorization.revoke', { client_id: clientId }, { client_id: clientId, user_id: userId, user_login: persona.login, user_name: persona.twitch.displayName })
  }
}

const login = { type: 'string', minLength: 1 } as const
const tier = { type: 'string', enum: ['1000', '2000', '3000'] } as const
const count = { type: 'integer', minimum: 0, maximum: 1_000_000 } as const

function objectOf (required: string[], properties: Record<string, unknown>) {
  return { type: 'object', additionalProperties: false, required, properties } as const
}

/** `/_sim/eventsub/*` and `/_sim/stream/*`: the same operations as `EventSubControl`, as JSON. */
export const eventsubControlRoutes: FastifyPluginAsync<{ state: SimState, control: EventSubControl }> = async (app, { state, control }) => {
  const notFound = (message: string) => ({ statusCode: 404, error: 'Not Found', message })
  const known = (name: string | undefined) => name === undefined || state.world.persona(name) !== undefined
  app.post<{ Body: { broadcaster: string, user?: string } }>('/eventsub/follow', { schema: { body: objectOf(['broadcaster'], { broadcaster: login, user: login }) } }, async (request, reply) => {
    if (!known(request.body.broadcaster) || !known(request.body.user)) return reply.code(404).send(notFound('unknown simulated login'))
    return control.follow(request.body.broadcaster, request.body.user)
  })
  app.post<{ Body: { broadcaster: string, tier: Tier, user?: string } }>('/eventsub/subscribe', { schema: { body: objectOf(['broadcaster', 'tier'], { broadcaster: login, tier, user: login }) } }, async (request, reply) => {
    if (!known(request.body.broadcaster) || !known(request.body.user)) return reply.code(404).send(notFound('unknown simulated login'))
    return control.subscribe(request.body.broadcaster, request.body.tier, request.body.user)
  })
  app.post<{ Body: { broadcaster: string, total: number, tier: Tier, user?: string, anonymous?: boolean } }>('/eventsub/gift', {
    schema: { body: objectOf(['broadcaster', 'total', 'tier'], { broadcaster: login, total: { type: 'integer', minimum: 1, maximum: 100 }, tier, user: login, anonymous: { type: 'boolean' } }) }
  }, async (request, reply) => {
    if (!known(request.body.broadcaster) || !known(request.body.user)) return reply.code(404).send(notFound('unknown simulated login'))
    return control.gift(request.body.broadcaster, request.body.total, request.body.tier, request.body)
  })
  app.post<{ Body: { broadcaster: string, bits: number, user?: string, anonymous?: boolean, message?: string } }>('/eventsub/cheer', {
    schema: { body: objectOf(['broadcaster', 'bits'], { broadcaster: login, bits: { type: 'integer', minimum: 1, maximum: 1_000_000 }, user: login, anonymous: { type: 'boolean' }, message: { type: 'string', maxLength: 500 } }) }
  }, async (request, reply) => {
    if (!known(request.body.broadcaster) || !known(request.body.user)) return reply.code(404).send(notFound('unknown simulated login'))
    return control.cheer(request.body.broadcaster, request.body.bits, request.body)
  })
  app.post<{ Body: { broadcaster: string, viewers: number, gameId?: string } }>('/stream/online', {
    schema: { body: objectOf(['broadcaster', 'viewers'], { broadcaster: login, viewers: count, gameId: { type: 'string', minLength: 1 } }) }
  }, async (request, reply) => {
    if (!known(request.body.broadcaster)) return reply.code(404).send(notFound('unknown simulated login'))
    try {
      return await control.streamOnline(request.body.broadcaster, request.body.viewers, request.body.gameId)
    } catch (error) {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: (error as Error).message })
    }
  })
  app.post<{ Body: { broadcaster: string, viewers: number } }>('/stream/viewers', { schema: { body: objectOf(['broadcaster', 'viewers'], { broadcaster: login, viewers: count }) } }, async (request, reply) => {
    if (!known(request.body.broadcaster)) return reply.code(404).send(notFound('unknown simulated login'))
    try {
      control.setViewers(request.body.broadcaster, request.body.viewers)
    } catch (error) {
      return reply.code(409).send({ statusCode: 409, error: 'Conflict', message: (error as Error).message })
    }
    return reply.code(204).send()
  })
  app.post<{ Body: { broadcaster: string } }>('/stream/offline', { schema: { body: objectOf(['broadcaster'], { broadcaster: login }) } }, async (request, reply) => {
    if (!known(request.body.broadcaster)) return reply.code(404).send(notFound('unknown simulated login'))
    return control.streamOffline(request.body.broadcaster)
  })
  app.post<{ Body: { mode: DeliveryMode } }>('/eventsub/mode', { schema: { body: objectOf(['mode'], { mode: { type: 'string', enum: [...DELIVERY_MODES] } }) } }, async (request, reply) => {
    control.setDeliveryMode(request.body.mode)
    return reply.code(204).send()
  })
  app.get('/eventsub/deliveries', async () => control.deliveries())
}
