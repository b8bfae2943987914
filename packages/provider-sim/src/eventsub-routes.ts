import type { FastifyPluginAsync } from 'fastify'
import { EVENTSUB_STATUSES, EVENTSUB_TYPES, subscriptionJson, type EventSubStatus, type EventSubSubscription } from './eventsub.js'
import { HelixError, requireCaller } from './helix-auth.js'
import { queryOne } from './http.js'
import { slice } from './pagination.js'
import type { SimState } from './state.js'

/**
 * Create, Get and Delete EventSub Subscriptions, webhook transport (docs/providers.md §1.5). Webhook
 * subscriptions are managed with an app access token; a type that reads a user's data needs that
 * user's authorization of the client, with the type's scope.
 */

const USER_KEYS = ['broadcaster_user_id', 'moderator_user_id', 'user_id'] as const

type Bag = Record<string, unknown>
const isBag = (value: unknown): value is Bag => typeof value === 'object' && value !== null && !Array.isArray(value)

function requireString (bag: Bag, key: string, where: string): string {
  const value = bag[key]
  if (typeof value !== 'string' || value === '') throw new HelixError(400, `Missing required parameter "${where}${key}"`)
  return value
}

export const eventsubRoutes: FastifyPluginAsync<{ state: SimState }> = async (app, { state }) => {
  const { eventsub, world } = state

  app.post('/eventsub/subscriptions', async (request, reply) => {
    const caller = requireCaller(request)
    if (caller.userId !== undefined) throw new HelixError(400, 'invalid transport and auth combination: webhook subscriptions need an app access token')
    const body = request.body
    if (!isBag(body)) throw new HelixError(400, 'The request body must be a JSON object')
    const type = requireString(body, 'type', '')
    const version = requireString(body, 'version', '')
    const versions = EVENTSUB_TYPES[type]
    if (versions === undefined) throw new HelixError(400, `unsupported subscription type: ${type}`)
    const rule = versions[version]
    if (rule === undefined) throw new HelixError(400, `unsupported version ${version} of ${type}`)

    const condition = body.condition
    if (!isBag(condition)) throw new HelixError(400, 'Missing required parameter "condition"')
    const given = Object.keys(condition).sort()
    if (given.join(',') !== [...rule.condition].sort().join(',') || Object.values(condition).some((v) => typeof v !== 'string' || v === '')) {
      throw new HelixError(400, `invalid condition for ${type} version ${version}: it needs exactly ${rule.condition.join(', ')}`)
    }
    const values = condition as Record<string, string>

    const transport = body.transport
    if (!isBag(transport)) throw new HelixError(400, 'Missing required parameter "transport"')
    if (transport.method !== 'webhook') throw new HelixError(400, 'transport.method must be webhook with an app access token')
    const callback = requireString(transport, 'callback', 'transport.')
    const secret = requireString(transport, 'secret', 'transport.')
    let url: URL
    try {
      url = new URL(callback)
    } catch {
      throw new HelixError(400, 'transport.callback must be an absolute URL')
    }
    // Twitch wants https on port 443; the simulator also takes http so a local stack can receive.
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new HelixError(400, 'transport.callback must be an https URL')
    if (secret.length < 10 || secret.length > 100 || !/^[\x20-\x7e]+$/.test(secret)) throw new HelixError(400, 'transport.secret must be 10 to 100 ASCII characters')

    for (const key of USER_KEYS) {
      const id = values[key]
      if (id !== undefined && world.personaByTwitchId(id) === undefined) throw new HelixError(400, `invalid condition: no user with ${key} ${id}`)
    }
    if (values.client_id !== undefined && values.client_id !== caller.clientId) throw new HelixError(400, 'invalid condition: client_id must be the token\'s client')
    if (rule.authorizer !== undefined) {
      const userId = values[rule.authorizer.key]!
      const scopes = state.twitchTokens.userAuthorization(caller.clientId, userId)
      if (scopes === undefined || !scopes.has(rule.authorizer.scope)) throw new HelixError(403, 'subscription missing proper authorization')
      if (type === 'channel.follow') {
        const broadcaster = world.personaByTwitchId(values.broadcaster_user_id!)!
        const moderator = world.personaByTwitchId(userId)!
        if (moderator !== broadcaster && !broadcaster.twitch.moderators.includes(moderator.index)) throw new HelixError(403, 'subscription missing proper authorization')
      }
    }

    const same = eventsub.ofClient(caller.clientId).find((s) => eventsub.isLive(s) && s.type === type && s.version === version &&
      s.callback === callback && rule.condition.every((k) => s.condition[k] === values[k]))
    if (same !== undefined) throw new HelixError(409, 'subscription already exists')

    // Free when a user named in the condition authorized the client; else one point (§1.5).
    const authorized = USER_KEYS.some((key) => values[key] !== undefined && state.twitchTokens.userAuthorization(caller.clientId, values[key]!) !== undefined)
    const cost = authorized ? 0 : 1
    if (eventsub.totals(caller.clientId).total_cost + cost > eventsub.totals(caller.clientId).max_total_cost) throw new HelixError(429, 'maximum total cost exceeded')

    const sub = eventsub.create({ clientId: caller.clientId, type, version, condition: { ...values }, callback, secret, cost }, state.clock.now())
    return reply.code(202).send({ data: [subscriptionJson(sub)], ...eventsub.totals(caller.clientId) })
  })

  app.get('/eventsub/subscriptions', async (request) => {
    const caller = requireCaller(request)
    const filters = ['status', 'type', 'user_id', 'subscription_id'].filter((name) => queryOne(request, name) !== undefined)
    if (filters.length > 1) throw new HelixError(400, 'only one of status, type, user_id and subscription_id may be given')
    const status = queryOne(request, 'status')
    if (status !== undefined && !EVENTSUB_STATUSES.includes(status as EventSubStatus)) throw new HelixError(400, `The parameter "status" was malformed: the value must be one of ${EVENTSUB_STATUSES.join(', ')}`)
    const type = queryOne(request, 'type')
    const userId = queryOne(request, 'user_id')
    const id = queryOne(request, 'subscription_id')
    // Webhook subscriptions belong to the app; a user token sees only its WebSocket ones (none here).
    const all = caller.userId === undefined ? eventsub.ofClient(caller.clientId) : []
    const subs = all.filter((s: EventSubSubscription) =>
      (status === undefined || s.status === status) &&
      (type === undefined || s.type === type) &&
      (userId === undefined || USER_KEYS.some((k) => s.condition[k] === userId)) &&
      (id === undefined || s.id === id))
    const page = slice(subs, 100, queryOne(request, 'after'), undefined)
    return { data: page.data.map(subscriptionJson), ...eventsub.totals(caller.clientId), pagination: page.pagination }
  })

  app.delete('/eventsub/subscriptions', async (request, reply) => {
    const caller = requireCaller(request)
    const id = queryOne(request, 'id')
    if (id === undefined || id === '') throw new HelixError(400, 'Missing required parameter "id"')
    const sub = eventsub.subscriptions.get(id)
    if (sub === undefined || sub.clientId !== caller.clientId) throw new HelixError(404, 'subscription not found')
    eventsub.subscriptions.delete(id)
    return reply.code(204).send()
  })
}
