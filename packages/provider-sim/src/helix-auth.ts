import type { FastifyRequest } from 'fastify'
import { header, queryOne } from './http.js'
import type { Persona } from './personas.js'
import type { SimState } from './state.js'

/**
 * Who is calling Helix: `Authorization: Bearer` with a live token and a `Client-Id` that matches
 * the token's client (docs/providers.md §1.2, §3.5), and the checks endpoints make on top.
 */
export interface HelixCaller {
  clientId: string
  /** Undefined for an app access token. */
  userId: string | undefined
  persona: Persona | undefined
  scopes: readonly string[]
}

declare module 'fastify' {
  interface FastifyRequest {
    helixCaller: HelixCaller | null
  }
  interface FastifyContextConfig {
    /** A retired endpoint: answers 410 whatever the credentials (docs/providers.md §1.3). */
    gone?: boolean
  }
}

/** A Helix error answer, thrown from a handler. */
export class HelixError extends Error {
  constructor (readonly status: number, message: string) {
    super(message)
  }
}

export function requireCaller (request: FastifyRequest): HelixCaller {
  const caller = request.helixCaller
  if (caller === null) throw new HelixError(401, 'Invalid OAuth token')
  return caller
}

/** Endpoints that act for a user need a user token with the scope (docs/providers.md §1.3). */
export function requireUserScope (request: FastifyRequest, scope: string): HelixCaller & { userId: string, persona: Persona } {
  const caller = requireCaller(request)
  if (caller.userId === undefined || caller.persona === undefined) throw new HelixError(401, 'Missing User OAUTH Token')
  if (!caller.scopes.includes(scope)) throw new HelixError(401, `Missing scope: ${scope}`)
  return caller as HelixCaller & { userId: string, persona: Persona }
}

/**
 * A user-token call about the caller's own account: the scope, and the query parameter `name`
 * (user_id, broadcaster_id) present and naming the token's user, as Helix checks them.
 */
export function requireOwnAccount (request: FastifyRequest, scope: string, name: string): HelixCaller & { userId: string, persona: Persona } {
  const caller = requireUserScope(request, scope)
  const id = queryOne(request, name)
  if (id === undefined || id === '') throw new HelixError(400, `Missing required parameter "${name}"`)
  if (id !== caller.userId) throw new HelixError(401, `The ID in ${name} must match the user ID found in the request's OAuth token.`)
  return caller
}

export type Resolved = { caller: HelixCaller } | { error: string, clientId: string }

export function resolveCaller (state: SimState, request: FastifyRequest): Resolved {
  const clientId = header(request, 'client-id') ?? ''
  const authorization = header(request, 'authorization')
  if (authorization === undefined) return { error: 'OAuth token is missing', clientId }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
  const found = match === null ? undefined : state.twitchTokens.lookup(match[1]!, state.clock.now())
  if (found === undefined) return { error: 'Invalid OAuth token', clientId }
  if (clientId === '') return { error: 'Client ID is missing', clientId }
  if (clientId !== found.grant.clientId) return { error: 'Client ID and OAuth token do not match', clientId }
  const { grant } = found
  return {
    caller: {
      clientId,
      userId: grant.userId,
      persona: grant.userId === undefined ? undefined : state.world.personaByTwitchId(grant.userId),
      scopes: grant.scopes
    }
  }
}

/**
 * Separate buckets for app and user tokens; user buckets are per client and user
 * (docs/providers.md §1.4). Calls that fail authentication spend from a bucket of their Client-Id.
 */
export function bucketKey (resolved: Resolved): string {
  if ('error' in resolved) return `anonymous:${resolved.clientId}`
  const { caller } = resolved
  return caller.userId === undefined ? `app:${caller.clientId}` : `user:${caller.clientId}:${caller.userId}`
}
