import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { endpointOf, plannedFault } from './endpoint.js'
import { X_PROBLEM_TYPE, xProblem } from './errors.js'
import { header, queryOne } from './http.js'
import type { Persona } from './personas.js'
import { hash32 } from './random.js'
import { resetSeconds, type RateWindow } from './rate-limit.js'
import { X_LIMITS, type SimState, type XLimitedEndpoint } from './state.js'
import { TWEET_FIELDS, USER_FIELDS, postJson, userJson } from './x-format.js'
import { postAt, postCount, postId, postsBefore, postsUpToId, xMetrics } from './x-data.js'
import { verifyOAuth1 } from './x-signature.js'

/**
 * X API v2 (docs/providers.md §2.5, §2.6): users/me, users/:id, users/by/username/:username and the
 * user timeline. Errors are problem JSON; every authenticated answer carries `x-rate-limit-*`.
 */

export interface XCaller {
  /** The user the token acts for. */
  userId: string
  /** The OAuth 1.0a consumer key or the OAuth 2.0 client id. */
  appKey: string
}

declare module 'fastify' {
  interface FastifyRequest {
    xCaller: XCaller | null
  }
}

/** X's reach back over a user's timeline (docs/providers.md §2.5). */
export const TIMELINE_HORIZON = 3_200
const PROBLEMS = 'https://api.twitter.com/2/problems'

class InvalidRequest extends Error {
  constructor (readonly parameter: string, readonly value: string, message: string) {
    super(message)
  }
}

function sendProblem (reply: FastifyReply, status: number, body: object) {
  return reply.code(status).type(X_PROBLEM_TYPE).send(body)
}

const UNAUTHORIZED = xProblem(401, 'Unauthorized', 'Unauthorized')
const TOO_MANY = xProblem(429, 'Too Many Requests', 'Too Many Requests')
const FORBIDDEN = xProblem(403, 'Forbidden', 'Forbidden')
const REQUIRED_SCOPES = ['tweet.read', 'users.read']

function sendRateHeaders (reply: FastifyReply, window: RateWindow): void {
  reply.header('x-rate-limit-limit', String(window.limit))
  reply.header('x-rate-limit-remaining', String(window.remaining))
  reply.header('x-rate-limit-reset', String(resetSeconds(window.resetAt)))
}

/** A comma-separated field list (`explode: false`); unknown names are refused. */
function fieldList (request: FastifyRequest, names: string[], allowed: readonly string[]): Set<string> {
  for (const name of names) {
    const value = queryOne(request, name)
    if (value === undefined) continue
    const fields = value.split(',')
    const normalised = fields.map((f) => f.replace('post', 'tweet'))
    const bad = normalised.findIndex((f) => !allowed.includes(f))
    if (bad !== -1) {
      throw new InvalidRequest(name, fields[bad]!, `The \`${name}\` query parameter value [${fields[bad]!}] is not one of [${allowed.join(',')}]`)
    }
    return new Set(normalised)
  }
  return new Set()
}

function paginationToken (seed: number, persona: Persona, before: number): string {
  return `7140${before.toString(36).padStart(6, '0')}${hash32(seed, 'x-page', persona.index, before).toString(36)}`
}

function readPaginationToken (seed: number, persona: Persona, token: string): number | undefined {
  const match = /^7140([0-9a-z]{6})([0-9a-z]+)$/.exec(token)
  if (match === null) return undefined
  const before = parseInt(match[1]!, 36)
  return paginationToken(seed, persona, before) === token ? before : undefined
}

function parseTime (request: FastifyRequest, name: string): number | undefined {
  const value = queryOne(request, name)
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  if (!/^\d{4}-\d\d-\d\dT/.test(value) || Number.isNaN(ms) || ms < Date.parse('2010-11-06T00:00:01Z')) {
    throw new InvalidRequest(name, value, `Invalid '${name}':'${value}'. '${name}' must be on or after 2010-11-06T00:00:01Z`)
  }
  return ms
}

function parseId (request: FastifyRequest, name: string): bigint | undefined {
  const value = queryOne(request, name)
  if (value === undefined) return undefined
  if (!/^\d{1,19}$/.test(value)) throw new InvalidRequest(name, value, `The \`${name}\` query parameter value [${value}] does not match ^[0-9]{1,19}$`)
  return BigInt(value)
}

export const xApi: FastifyPluginAsync<{ state: SimState }> = async (app, { state }) => {
  const { world, xTokens, clock } = state
  app.decorateRequest('xCaller', null)

  /**
   * User context only: an OAuth 1.0a request signed with a user's access token, or an OAuth 2.0
   * user token carrying tweet.read and users.read (the scopes both endpoints need, §2.4).
   */
  const authenticate = (request: FastifyRequest): XCaller | 'unauthorized' | 'forbidden' => {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header(request, 'authorization') ?? '')
    if (bearer !== null) {
      const found = state.xOAuth2.lookup(bearer[1]!, clock.now())
      if (found === undefined || found.grant.userId === undefined) return 'unauthorized'
      if (!REQUIRED_SCOPES.every((s) => found.grant.scopes.includes(s))) return 'forbidden'
      return { userId: found.grant.userId, appKey: found.grant.clientId }
    }
    const verified = verifyOAuth1(state, request, (token) => xTokens.accessToken(token)?.secret)
    if (!verified.ok || verified.token === undefined) return 'unauthorized'
    return { userId: xTokens.accessToken(verified.token)!.userId, appKey: verified.consumerKey }
  }

  app.addHook('onRequest', async (request, reply) => {
    const endpoint = endpointOf(request)
    const limits = X_LIMITS[endpoint as XLimitedEndpoint] as { user: number } | undefined
    const fault = plannedFault(state, request)
    if (fault !== undefined) {
      if (fault === 429) {
        // Like Twitch's: the window of an injected 429 ends a second later.
        sendRateHeaders(reply, { limit: limits?.user ?? 0, remaining: 0, resetAt: clock.now() + 1000 })
        return sendProblem(reply, 429, TOO_MANY)
      }
      return sendProblem(reply, fault, xProblem(fault, fault === 503 ? 'Service Unavailable' : 'Internal Server Error', fault === 503 ? 'Service Unavailable' : 'Internal Server Error'))
    }
    const caller = authenticate(request)
    if (caller === 'unauthorized') return sendProblem(reply, 401, UNAUTHORIZED)
    if (caller === 'forbidden') return sendProblem(reply, 403, FORBIDDEN)
    request.xCaller = caller
    const limiter = state.xLimiters.get(`${endpoint} user`)
    if (limiter === undefined) return
    // Per-user limits apply with user tokens (docs/providers.md §2.6).
    const decision = limiter.take(`${caller.appKey}:${caller.userId}`, clock.now())
    sendRateHeaders(reply, decision)
    if (!decision.allowed) return sendProblem(reply, 429, TOO_MANY)
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof InvalidRequest) {
      return sendProblem(reply, 400, {
        errors: [{ parameters: { [error.parameter]: [error.value] }, message: error.message }],
        title: 'Invalid Request',
        detail: 'One or more parameters to your request was invalid.',
        type: `${PROBLEMS}/invalid-request`
      })
    }
    request.log.error({ err: error }, 'x api handler failed')
    return sendProblem(reply, 500, xProblem(500, 'Internal Server Error', 'Internal Server Error'))
  })

  app.setNotFoundHandler((_request, reply) => sendProblem(reply, 404, xProblem(404, 'Not Found Error', 'The requested resource was not found.')))

  const userAnswer = (request: FastifyRequest, persona: Persona) => {
    const fields = fieldList(request, ['user.fields'], USER_FIELDS)
    const hour = state.hour()
    const count = postCount(world, persona, hour)
    const recent = count === 0 ? undefined : postId(world, persona, count - 1).toString()
    return { data: userJson(persona, xMetrics(world, persona, hour), fields, state.xNaming, recent) }
  }

  const notFound = (parameter: string, value: string, what: string) => ({
    errors: [{
      value,
      detail: `Could not find user with ${what}: [${value}].`,
      title: 'Not Found Error',
      resource_type: 'user',
      parameter,
      resource_id: value,
      type: `${PROBLEMS}/resource-not-found`
    }]
  })

  app.get('/users/me', async (request) => {
    const caller = request.xCaller!
    return userAnswer(request, world.personaByXId(caller.userId)!)
  })

  app.get<{ Params: { id: string } }>('/users/:id', async (request) => {
    const { id } = request.params
    if (!/^\d{1,19}$/.test(id)) throw new InvalidRequest('id', id, `The \`id\` query parameter value [${id}] does not match ^[0-9]{1,19}$`)
    const persona = world.personaByXId(id)
    // A missing user is a 200 carrying only `errors` (partial errors, docs/providers.md §2.5).
    return persona === undefined ? notFound('id', id, 'id') : userAnswer(request, persona)
  })

  app.get<{ Params: { username: string } }>('/users/by/username/:username', async (request) => {
    const { username } = request.params
    const persona = world.persona(username)
    return persona === undefined ? notFound('username', username, 'username') : userAnswer(request, persona)
  })

  app.get<{ Params: { id: string } }>('/users/:id/tweets', async (request) => {
    const { id } = request.params
    if (!/^\d{1,19}$/.test(id)) throw new InvalidRequest('id', id, `The \`id\` query parameter value [${id}] does not match ^[0-9]{1,19}$`)
    const maxParam = queryOne(request, 'max_results')
    // The OpenAPI states no default; older docs said 10 (docs/providers.md §2.5).
    const max = maxParam === undefined ? 10 : Number(maxParam)
    if (!/^\d+$/.test(maxParam ?? '10') || max < 5 || max > 100) {
      throw new InvalidRequest('max_results', maxParam ?? '', `The \`max_results\` query parameter value [${maxParam ?? ''}] is not between 5 and 100`)
    }
    const fields = fieldList(request, ['tweet.fields', 'post.fields'], TWEET_FIELDS)
    const excludeParam = queryOne(request, 'exclude')
    const exclude = new Set(excludeParam === undefined ? [] : excludeParam.split(','))
    for (const value of exclude) {
      if (value !== 'replies' && value !== 'retweets') throw new InvalidRequest('exclude', value, `The \`exclude\` query parameter value [${value}] is not one of [replies,retweets]`)
    }
    const startTime = parseTime(request, 'start_time')
    const endTime = parseTime(request, 'end_time')
    const sinceId = parseId(request, 'since_id')
    const untilId = parseId(request, 'until_id')
    const persona = world.personaByXId(id)
    if (persona === undefined) return notFound('id', id, 'id')

    const hour = state.hour()
    const count = postCount(world, persona, hour)
    // Only the newest 3,200 posts can be reached; posts [low, high) are in range.
    let low = Math.max(0, count - TIMELINE_HORIZON)
    let high = count
    if (sinceId !== undefined) low = Math.max(low, postsUpToId(world, persona, count, sinceId))
    if (untilId !== undefined) high = Math.min(high, postsUpToId(world, persona, count, untilId - 1n))
    if (startTime !== undefined) low = Math.max(low, postsBefore(world, persona, count, startTime))
    if (endTime !== undefined) high = Math.min(high, postsBefore(world, persona, count, endTime))
    const token = queryOne(request, 'pagination_token')
    if (token !== undefined) {
      const before = readPaginationToken(world.seed, persona, token)
      if (before === undefined) throw new InvalidRequest('pagination_token', token, `The \`pagination_token\` query parameter value [${token}] is not valid`)
      high = Math.min(high, before)
    }

    const wanted = (k: number) => {
      if (exclude.size === 0) return true
      const post = postAt(world, persona, k, hour)
      return !((exclude.has('replies') && post.kind === 'reply') || (exclude.has('retweets') && post.kind === 'repost'))
    }
    const page: number[] = []
    let k = high - 1
    for (; k >= low && page.length < max; k--) if (wanted(k)) page.push(k)
    let more = false
    for (; k >= low && !more; k--) more = wanted(k)

    const posts = page.map((i) => postAt(world, persona, i, hour))
    if (posts.length === 0) return { meta: { result_count: 0 } } // no `data` key at all (docs/providers.md §2.5)
    const naming = state.xNaming
    return {
      data: posts.map((p) => postJson(p, fields, naming)),
      meta: {
        result_count: posts.length,
        newest_id: posts[0]!.id,
        oldest_id: posts[posts.length - 1]!.id,
        ...(more ? { next_token: paginationToken(world.seed, persona, page[page.length - 1]!) } : {})
      }
    }
  })

}
