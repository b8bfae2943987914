import { createHash } from 'node:crypto'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { sendConsentPage } from './consent-page.js'
import { SIM_CREDENTIALS } from './credentials.js'
import { plannedFault } from './endpoint.js'
import { X_PROBLEM_TYPE, xProblem } from './errors.js'
import { escapeHtml, header, queryOne, queryOrBody, withQuery } from './http.js'
import type { SimState } from './state.js'
import { xProfile } from './x-data.js'

/**
 * X's OAuth 2.0 Authorization Code flow with PKCE (docs/providers.md §2.4): x.com/i/oauth2/authorize
 * and api.x.com/2/oauth2/{token,revoke}. Codes live 30 s, access tokens 2 h, refresh tokens are
 * single-use, `scope` is a space-separated string, confidential clients must use Basic auth.
 */

const CLIENT = SIM_CREDENTIALS.twitterOAuth2

export const X_OAUTH2_SCOPES: ReadonlySet<string> = new Set([
  'tweet.read', 'tweet.write', 'tweet.moderate.write', 'users.email', 'users.read', 'follows.read', 'follows.write',
  'offline.access', 'space.read', 'mute.read', 'mute.write', 'like.read', 'like.write', 'list.read', 'list.write',
  'block.read', 'block.write', 'bookmark.read', 'bookmark.write', 'dm.read', 'dm.write', 'media.write'
])

const INVALID_CODE = { error: 'invalid_request', error_description: 'Value passed for the authorization code was invalid.' }
const INVALID_TOKEN = { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' }
const MISSING_AUTH = { error: 'unauthorized_client', error_description: 'Missing valid authorization header' }

function errorPage (reply: FastifyReply, message: string) {
  return reply.code(400).type('text/html; charset=utf-8').send(`<!doctype html><title>X (simulated)</title><p>Something went wrong. ${escapeHtml(message)}</p>`)
}

/** The client of a confidential-client request: `Authorization: Basic base64(id:secret)`. */
function basicClient (request: FastifyRequest): string | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header(request, 'authorization') ?? '')
  if (match === null) return undefined
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon === -1) return undefined
  const id = decodeURIComponent(decoded.slice(0, colon))
  const secret = decodeURIComponent(decoded.slice(colon + 1))
  return id === CLIENT.clientId && secret === CLIENT.clientSecret ? id : undefined
}

/** RFC 7636 §4.6. */
function challengeMatches (verifier: string, challenge: { value: string, method: 'S256' | 'plain' }): boolean {
  const derived = challenge.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier
  return derived === challenge.value
}

function tokenAnswer (tokens: { accessToken: string, refreshToken: string | undefined, expiresIn: number }, scopes: string[]) {
  return {
    token_type: 'bearer',
    expires_in: tokens.expiresIn,
    access_token: tokens.accessToken,
    // A space-separated string here, unlike Twitch's array (docs/providers.md §2.4, §3.8).
    scope: scopes.join(' '),
    ...(tokens.refreshToken === undefined ? {} : { refresh_token: tokens.refreshToken })
  }
}

export const xOAuth2: FastifyPluginAsync<{ state: SimState }> = async (app, { state }) => {
  const { world, xOAuth2: grants, clock } = state

  app.addHook('onRequest', async (request, reply) => {
    const fault = plannedFault(state, request)
    if (fault === undefined) return
    const title = fault === 429 ? 'Too Many Requests' : fault === 503 ? 'Service Unavailable' : 'Internal Server Error'
    return reply.code(fault).type(X_PROBLEM_TYPE).send(xProblem(fault, title, title))
  })

  app.get('/i/oauth2/authorize', async (request, reply) => {
    const clientId = queryOne(request, 'client_id')
    const redirectUri = queryOne(request, 'redirect_uri') ?? ''
    const stateParam = queryOne(request, 'state') ?? ''
    const scopes = (queryOne(request, 'scope') ?? '').split(' ').filter((s) => s !== '')
    const challenge = queryOne(request, 'code_challenge')
    // The official SDK and twitter-api-v2 send `s256` in lower case (docs/providers.md §2.4).
    const method = (queryOne(request, 'code_challenge_method') ?? 'plain').toUpperCase()
    if (clientId !== CLIENT.clientId) return errorPage(reply, 'Unknown client_id.')
    if (queryOne(request, 'response_type') !== 'code') return errorPage(reply, 'response_type must be code.')
    try {
      const url = new URL(redirectUri)
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http')
    } catch {
      return errorPage(reply, 'redirect_uri is not a valid URL.')
    }
    if (stateParam === '' || stateParam.length > 500) return errorPage(reply, 'state is required and at most 500 characters.')
    if (challenge === undefined || challenge === '' || (method !== 'S256' && method !== 'PLAIN')) return errorPage(reply, 'A PKCE code_challenge is required.')
    const unknown = scopes.find((s) => !X_OAUTH2_SCOPES.has(s))
    if (unknown !== undefined || scopes.length === 0) return errorPage(reply, `Invalid scope: ${unknown ?? '(none)'}.`)

    const decision = queryOne(request, 'sim_decision')
    if (decision === 'deny') return reply.redirect(withQuery(redirectUri, { error: 'access_denied', state: stateParam }), 302)
    if (decision === 'approve') {
      const login = queryOne(request, 'sim_user')
      const persona = login === undefined ? undefined : world.persona(login)
      if (persona === undefined) return errorPage(reply, `Unknown sim_user: ${login ?? ''}.`)
      const code = grants.issueCode({
        clientId, userId: persona.x.id, scopes, redirectUri, challenge: { value: challenge, method: method === 'S256' ? 'S256' : 'plain' }
      }, clock.now())
      return reply.redirect(withQuery(redirectUri, { state: stateParam, code }), 302)
    }
    if (decision !== undefined) return errorPage(reply, 'sim_decision must be approve or deny.')
    const hour = state.hour()
    return sendConsentPage(request, reply, { provider: 'X', wants: scopes, personas: world.personas, profileOf: (p) => xProfile(world, p, hour) })
  })

  app.post('/2/oauth2/token', async (request, reply) => {
    // The development client is confidential (a Web App): Basic auth is required.
    const clientId = basicClient(request)
    if (clientId === undefined) return reply.code(401).send(MISSING_AUTH)
    const now = clock.now()
    const param = (name: string) => queryOrBody(request, name)
    switch (param('grant_type')) {
      case 'authorization_code': {
        const value = param('code') ?? ''
        const code = grants.peekCode(value, now)
        const verifier = param('code_verifier') ?? ''
        if (code === undefined || code.clientId !== clientId || param('redirect_uri') !== code.redirectUri ||
          code.challenge === undefined || !challengeMatches(verifier, code.challenge)) {
          return reply.code(400).send(INVALID_CODE)
        }
        grants.consumeCode(value)
        // A refresh token only with offline.access (docs/providers.md §2.4).
        const tokens = grants.issueUserTokens(clientId, code.userId, code.scopes, now, code.scopes.includes('offline.access'))
        return tokenAnswer(tokens, code.scopes)
      }
      case 'refresh_token': {
        const rotated = grants.rotate(param('refresh_token') ?? '', clientId, now)
        if (rotated === undefined) return reply.code(400).send(INVALID_TOKEN)
        return tokenAnswer(rotated.tokens, rotated.scopes)
      }
      default:
        return reply.code(400).send({ error: 'invalid_request', error_description: 'Missing required parameter [grant_type].' })
    }
  })

  app.post('/2/oauth2/revoke', async (request, reply) => {
    const clientId = basicClient(request)
    if (clientId === undefined) return reply.code(401).send(MISSING_AUTH)
    // RFC 7009 §2.2: an unknown token is not an error.
    grants.revokeToken(clientId, queryOrBody(request, 'token') ?? '')
    return { revoked: true }
  })
}
