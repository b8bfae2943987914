import type { FastifyError, FastifyPluginAsync, FastifyReply } from 'fastify'
import { plannedFault } from './endpoint.js'
import { helixError } from './errors.js'
import { eventsubRoutes } from './eventsub-routes.js'
import { helixCreatorRoutes } from './helix-creator.js'
import { helixStreamRoutes } from './helix-streams.js'
import { helixUserRoutes } from './helix-users.js'
import { HelixError, bucketKey, resolveCaller } from './helix-auth.js'
import { PaginationError } from './pagination.js'
import { resetSeconds, type RateWindow } from './rate-limit.js'
import type { SimState } from './state.js'

/**
 * Helix, api.twitch.tv/helix (docs/providers.md §1.2–1.4). Every call needs `Authorization: Bearer` and
 * a `Client-Id` that matches the token's client; every answer carries the `Ratelimit-*` headers.
 */

function sendRateHeaders (reply: FastifyReply, window: RateWindow): void {
  reply.header('Ratelimit-Limit', String(window.limit))
  reply.header('Ratelimit-Remaining', String(window.remaining))
  reply.header('Ratelimit-Reset', String(resetSeconds(window.resetAt)))
}

const TOO_MANY = helixError(429, 'Request limit exceeded')

export const helix: FastifyPluginAsync<{ state: SimState }> = async (app, { state }) => {
  app.decorateRequest('helixCaller', null)

  app.addHook('onRequest', async (request, reply) => {
    const resolved = resolveCaller(state, request)
    const now = state.clock.now()
    const decision = state.helixLimiter.take(bucketKey(resolved), now)
    sendRateHeaders(reply, decision)

    const fault = plannedFault(state, request)
    if (fault === 429) {
      // An injected 429 says the bucket refills a second later, so a client that waits for
      // Ratelimit-Reset (as Twurple does) is not held up in tests.
      sendRateHeaders(reply, { limit: decision.limit, remaining: 0, resetAt: now + 1000 })
      return reply.code(429).send(TOO_MANY)
    }
    if (fault !== undefined) return reply.code(fault).send(helixError(fault, fault === 503 ? 'Service Unavailable' : 'Internal Server Error'))
    if (!decision.allowed) return reply.code(429).send(TOO_MANY)
    if (request.routeOptions.config?.gone === true) return
    if ('error' in resolved) return reply.code(401).send(helixError(401, resolved.error))
    request.helixCaller = resolved.caller
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HelixError) return reply.code(error.status).send(helixError(error.status, error.message))
    if (error instanceof PaginationError) return reply.code(400).send(helixError(400, error.message))
    if (error.statusCode !== undefined && error.statusCode < 500) return reply.code(error.statusCode).send(helixError(error.statusCode, error.message))
    request.log.error({ err: error }, 'helix handler failed')
    return reply.code(500).send(helixError(500, 'Internal Server Error'))
  })

  app.setNotFoundHandler((_request, reply) => reply.code(404).send(helixError(404, 'Not Found')))

  await app.register(helixUserRoutes, { state })
  await app.register(helixStreamRoutes, { state })
  await app.register(helixCreatorRoutes, { state })
  await app.register(eventsubRoutes, { state })
}
