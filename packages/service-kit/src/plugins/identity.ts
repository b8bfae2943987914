import createError from '@fastify/error'
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { IDENTITY_HEADER, type Identity, type Role, type VerifyResult, verifyAssertion } from '../identity.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Who this request is for; null only on public routes without a logged-in user. */
    identity: Identity | null
    /** The client's address as the gateway saw it (the socket's address without an assertion). */
    clientIp: string
  }
  interface FastifyInstance {
    /** An onRequest hook that lets only users of this role through (403 for others). */
    requireRole: (role: Role) => onRequestHookHandler
  }
}

export interface IdentityPluginOptions {
  prefix: string
  secrets: readonly string[]
  /** This service's name: only assertions the gateway minted for it are accepted. */
  audience: string
}

/**
 * Every route needs the gateway's signed assertion with a logged-in user unless its config says
 * `public: true`; a public route still learns who the caller is and their address when the
 * gateway sent one. A request that did not come through the gateway gets 401.
 */
async function identityPlugin (app: FastifyInstance, { prefix, secrets, audience }: IdentityPluginOptions) {
  const Unauthenticated = createError(`${prefix}_UNAUTHENTICATED`, 'Log in first', 401)
  const Forbidden = createError(`${prefix}_FORBIDDEN`, 'You are not allowed to do this', 403)
  app.decorateRequest('identity', null)
  app.decorateRequest('clientIp', '')
  // The gateway reuses an assertion for a user's requests for a few seconds: remember the ones
  // already verified until they expire, instead of recomputing the HMAC on every request.
  const verified = new Map<string, { result: VerifyResult, until: number }>()
  const verify = (token: string | undefined): VerifyResult => {
    if (token === undefined) return verifyAssertion(undefined, secrets, audience)
    const now = Date.now()
    const hit = verified.get(token)
    if (hit !== undefined && hit.until > now) return hit.result
    const result = verifyAssertion(token, secrets, audience, now)
    if (result.ok) {
      if (verified.size >= 10_000) verified.clear()
      verified.set(token, { result, until: Math.min(now + 2000, result.expiresAt) })
    }
    return result
  }
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const header = request.headers[IDENTITY_HEADER]
    const result = verify(typeof header === 'string' ? header : undefined)
    request.clientIp = result.ok ? result.assertion.clientIp : request.ip
    if (result.ok && result.assertion.user !== null) {
      request.identity = { ...result.assertion.user, requestId: request.id }
      return
    }
    if (request.routeOptions.config.public === true || request.routeOptions.url === undefined) return
    if (!result.ok && result.reason !== 'missing') request.log.warn({ reason: result.reason }, 'identity assertion refused')
    throw new Unauthenticated()
  })
  app.decorate('requireRole', (role: Role): onRequestHookHandler => async (request) => {
    if (request.identity === null) throw new Unauthenticated()
    if (request.identity.role !== role) throw new Forbidden()
  })
}

export default fp(identityPlugin, { name: 'pulse-identity', fastify: '5.x' })

/** The identity of a request on a route that requires one. */
export function requireIdentity (request: { identity: Identity | null }): Identity {
  if (request.identity === null) throw new Error('route is public: no identity on this request')
  return request.identity
}
