import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { sendConsentPage } from './consent-page.js'
import { plannedFault } from './endpoint.js'
import { SIM_CREDENTIALS } from './credentials.js'
import { twitchIdError } from './errors.js'
import { header, queryOrBody, withQuery } from './http.js'
import type { SimState } from './state.js'
import { followerTotal } from './twitch-data.js'
import { TWITCH_SCOPES } from './twitch-scopes.js'

/**
 * Twitch's identity service, id.twitch.tv/oauth2 (docs/providers.md §1.1): the authorization code (and
 * implicit) grant, refresh, client credentials, validate and revoke, with Twitch's error bodies.
 */

const CLIENTS = new Map<string, string>([[SIM_CREDENTIALS.twitch.clientId, SIM_CREDENTIALS.twitch.clientSecret]])

function isAbsoluteHttpUrl (value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

function fail (reply: FastifyReply, status: number, message: string) {
  return reply.code(status).send(twitchIdError(status, message))
}

/** The token answer (docs/providers.md §1.1): `scope` is an array here, unlike X's string. */
function tokenAnswer (tokens: { accessToken: string, refreshToken: string | undefined, expiresIn: number }, scopes: string[]) {
  return {
    access_token: tokens.accessToken,
    expires_in: tokens.expiresIn,
    refresh_token: tokens.refreshToken,
    scope: scopes,
    token_type: 'bearer'
  }
}

function bearerOrOAuth (request: FastifyRequest): string | undefined {
  const value = header(request, 'authorization')
  const match = value === undefined ? null : /^(?:OAuth|Bearer)\s+(\S+)\s*$/i.exec(value)
  return match?.[1]
}

export const twitchOAuth: FastifyPluginAsync<{ state: SimState }> = async (app, { state }) => {
  const { world, twitchTokens, clock } = state

  app.addHook('onRequest', async (request, reply) => {
    const fault = plannedFault(state, request)
    if (fault === undefined) return
    return fail(reply, fault, fault === 429 ? 'Too Many Requests' : fault === 503 ? 'Service Unavailable' : 'Internal Server Error')
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 500
    if (status === 500) request.log.error({ err: error }, 'twitch identity handler failed')
    return fail(reply, status, status === 500 ? 'Internal Server Error' : error.message)
  })

  app.get('/authorize', async (request, reply) => {
    const clientId = queryOrBody(request, 'client_id')
    const redirectUri = queryOrBody(request, 'redirect_uri') ?? ''
    const responseType = queryOrBody(request, 'response_type')
    const stateParam = queryOrBody(request, 'state')
    const scopes = (queryOrBody(request, 'scope') ?? '').split(' ').filter((s) => s !== '')
    if (clientId === undefined || !CLIENTS.has(clientId)) return fail(reply, 400, 'invalid client')
    // Every absolute http(s) URL counts as registered for the development client; the token
    // endpoint then insists on exactly the URI used here.
    if (!isAbsoluteHttpUrl(redirectUri)) return fail(reply, 400, 'Parameter redirect_uri does not match registered URI')
    if (responseType !== 'code' && responseType !== 'token') return fail(reply, 400, 'unsupported response_type')
    const unknown = scopes.find((s) => !TWITCH_SCOPES.has(s))
    if (unknown !== undefined) return fail(reply, 400, `invalid scope requested: '${unknown}'`)

    const decision = queryOrBody(request, 'sim_decision')
    const login = queryOrBody(request, 'sim_user')
    const withState = (params: Record<string, string>) => (stateParam === undefined ? params : { ...params, state: stateParam })

    if (decision === 'deny') {
      return reply.redirect(withQuery(redirectUri, withState({ error: 'access_denied', error_description: 'The user denied you access' })), 302)
    }
    if (decision === 'approve') {
      const persona = login === undefined ? undefined : world.persona(login)
      if (persona === undefined) return fail(reply, 400, `unknown sim_user: ${login ?? ''}`)
      if (responseType === 'token') {
        // Implicit grant: the token travels in the fragment and has no refresh token.
        const tokens = twitchTokens.issueUserTokens(clientId, persona.twitch.id, scopes, clock.now())
        const fragment = new URLSearchParams(withState({ access_token: tokens.accessToken, scope: scopes.join(' '), token_type: 'bearer' }))
        return reply.redirect(`${redirectUri}#${fragment.toString()}`, 302)
      }
      const code = twitchTokens.issueCode({ clientId, userId: persona.twitch.id, scopes, redirectUri }, clock.now())
      return reply.redirect(withQuery(redirectUri, withState({ code, scope: scopes.join(' ') })), 302)
    }
    if (decision !== undefined) return fail(reply, 400, 'sim_decision must be approve or deny')

    const hour = state.hour()
    return sendConsentPage(request, reply, {
      provider: 'Twitch', wants: scopes, personas: world.personas, profileOf: (p) => ({ name: p.twitch.displayName, followers: followerTotal(world, p, hour) })
    })
  })

  app.post('/token', async (request, reply) => {
    const param = (name: string) => queryOrBody(request, name)
    const clientId = param('client_id')
    if (clientId === undefined || clientId === '') return fail(reply, 400, 'missing client id')
    const secret = CLIENTS.get(clientId)
    if (secret === undefined) return fail(reply, 400, 'invalid client')
    if (param('client_secret') !== secret) return fail(reply, 403, 'invalid client secret')
    const now = clock.now()

    switch (param('grant_type')) {
      case 'authorization_code': {
        const value = param('code') ?? ''
        const code = twitchTokens.peekCode(value, now)
        if (code === undefined || code.clientId !== clientId) return fail(reply, 400, 'Invalid authorization code')
        if (param('redirect_uri') !== code.redirectUri) return fail(reply, 400, 'Parameter redirect_uri does not match registeredURI')
        twitchTokens.consumeCode(value)
        return tokenAnswer(twitchTokens.issueUserTokens(clientId, code.userId, code.scopes, now), code.scopes)
      }
      case 'refresh_token': {
        const refreshToken = param('refresh_token')
        if (refreshToken === undefined || refreshToken === '') return fail(reply, 400, 'missing refresh token')
        const grant = twitchTokens.rotate(refreshToken, clientId, now)
        if (grant === undefined) return fail(reply, 400, 'Invalid refresh token')
        return tokenAnswer(grant.tokens, grant.scopes)
      }
      case 'client_credentials': {
        const tokens = twitchTokens.issueAppToken(clientId, now)
        return { access_token: tokens.accessToken, expires_in: tokens.expiresIn, token_type: 'bearer' }
      }
      case undefined:
      case '':
        return fail(reply, 400, 'missing grant_type')
      default:
        return fail(reply, 400, 'unsupported grant type')
    }
  })

  app.get('/validate', async (request, reply) => {
    const token = bearerOrOAuth(request)
    if (token === undefined) return fail(reply, 401, 'missing authorization token')
    const found = twitchTokens.lookup(token, clock.now())
    if (found === undefined) return fail(reply, 401, 'invalid access token')
    const expiresIn = Math.max(0, Math.floor((found.expiresAt - clock.now()) / 1000))
    const { grant } = found
    if (grant.userId === undefined) return { client_id: grant.clientId, scopes: grant.scopes, expires_in: expiresIn }
    const persona = world.personaByTwitchId(grant.userId)
    return { client_id: grant.clientId, login: persona?.login ?? '', scopes: grant.scopes, user_id: grant.userId, expires_in: expiresIn }
  })

  app.post('/revoke', async (request, reply) => {
    const clientId = queryOrBody(request, 'client_id')
    if (clientId === undefined || clientId === '') return fail(reply, 400, 'missing client id')
    if (!CLIENTS.has(clientId)) return fail(reply, 404, 'client does not exist')
    const token = queryOrBody(request, 'token') ?? ''
    if (!twitchTokens.revokeToken(clientId, token)) return fail(reply, 400, 'Invalid token')
    return reply.code(200).send()
  })
}
