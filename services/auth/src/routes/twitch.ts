import fastifyOauth2 from '@fastify/oauth2'
import { ErrorResponseSchema } from '@pulse/contracts'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import Type from 'typebox'
import type { AuthConfig } from '../config.js'
import { OAuthAttempts } from '../oauth/attempts.js'
import type { ConnectionFlow } from '../oauth/flow.js'
import { safeReturnPath } from '../oauth/return-to.js'
import { below } from '../providers/http.js'
import { tokenAnswerOf, type TwitchClient } from '../providers/twitch.js'
import { LoginQuerySchema, RedirectSchema } from './oauth-schemas.js'

export interface TwitchRoutesOptions {
  config: AuthConfig
  attempts: OAuthAttempts
  flow: ConnectionFlow
  twitch: TwitchClient
  now: () => number
}

const TwitchCallbackQuerySchema = Type.Object({
  code: Type.Optional(Type.String()),
  state: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  error_description: Type.Optional(Type.String())
})

/**
 * Sign in with Twitch, or connect Twitch to the logged-in account: the authorization code flow
 * (docs/providers.md §1.1).
 *
 * @fastify/oauth2 is used for the code exchange only (its simple-oauth2 client posts the code with
 * the client credentials in the body, as Twitch wants). Its own state handling is not used: in
 * 8.3 it writes the state cookie without Secure or Max-Age, never clears it, and the cookie holds
 * the state itself (docs/pitfalls.md, "OAuth"). Here state is one half of a browser-bound, single-use
 * attempt (oauth/attempts.ts), checked before the plugin is called; the plugin's
 * checkStateFunction only accepts a request whose attempt was already taken and matched, so no
 * code is ever exchanged for a request that failed that check.
 */
export default async function twitchRoutes (fastify: FastifyInstance, { config, attempts, flow, twitch, now }: TwitchRoutesOptions) {
  // Every route's request and reply types come from its schema.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const authUrl = new URL(config.TWITCH_AUTH_URL)
  const authPath = authUrl.pathname.replace(/\/+$/, '')
  // Built from configuration, never from the request's Host or X-Forwarded-* (docs/pitfalls.md, "OAuth").
  const redirectUri = below(config.PUBLIC_URL, '/auth/twitch/callback')
  const scopes = config.TWITCH_SCOPES.split(' ').filter((s) => s !== '')
  const attemptChecked = new WeakSet<FastifyRequest>()

  await app.register(fastifyOauth2, {
    name: 'twitch',
    credentials: {
      client: { id: config.TWITCH_CLIENT_ID, secret: config.TWITCH_CLIENT_SECRET },
      auth: { authorizeHost: authUrl.origin, authorizePath: `${authPath}/authorize`, tokenHost: authUrl.origin, tokenPath: `${authPath}/token` },
      options: { authorizationMethod: 'body' },
      http: { timeout: config.PROVIDER_TIMEOUT_MS }
    },
    callbackUri: redirectUri,
    scope: scopes,
    userAgent: 'pulse-auth',
    // Never called: the authorize URL is built below, with the state of an attempt.
    generateStateFunction: () => OAuthAttempts.randomValue(),
    checkStateFunction: (request: FastifyRequest) => attemptChecked.has(request)
  })

  app.get('/auth/twitch/login', {
    config: { public: true },
    schema: {
      tags: ['connections'],
      summary: 'Sign in with Twitch (or connect Twitch when logged in): redirects to Twitch',
      security: [],
      querystring: LoginQuerySchema,
      response: { 302: RedirectSchema, 503: ErrorResponseSchema }
    }
  }, async (request, reply) => {
    const { returnTo } = request.query
    const state = OAuthAttempts.randomValue()
    await attempts.begin(reply, 'twitch', { expect: state, returnTo: safeReturnPath(returnTo, config.FRONTEND_URL) })
    const authorize = new URL(below(config.TWITCH_BROWSER_AUTH_URL ?? config.TWITCH_AUTH_URL, 'authorize'))
    authorize.search = new URLSearchParams({
      client_id: config.TWITCH_CLIENT_ID,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: scopes.join(' '),
      state
    }).toString()
    return reply.redirect(authorize.toString(), 302)
  })

  app.get('/auth/twitch/callback', {
    config: { public: true },
    schema: {
      tags: ['connections'],
      summary: 'Where Twitch sends the browser back: signs in or links, then redirects to returnTo (with ?error= on failure)',
      security: [],
      querystring: TwitchCallbackQuerySchema,
      response: { 302: RedirectSchema, 503: ErrorResponseSchema }
    }
  }, async (request, reply) => {
    const query = request.query
    const taken = await attempts.take(request, reply, 'twitch', query.state)
    if (!taken.ok) return flow.fail(reply, taken.returnTo, 'invalid_state')
    const { returnTo } = taken.attempt
    // Twitch's denial: `error=access_denied&error_description=…&state=…` (docs/providers.md §1.1).
    if (query.error !== undefined) return flow.fail(reply, returnTo, 'twitch_denied')
    if (query.code === undefined || query.code === '') return flow.fail(reply, returnTo, 'exchange_failed')

    attemptChecked.add(request)
    let answer
    try {
      const token = await app.oauth2Twitch!.getAccessTokenFromAuthorizationCodeFlow(request)
      answer = tokenAnswerOf('twitch exchange', token.token)
    } catch (error) {
      const status = (error as { output?: { statusCode?: number } }).output?.statusCode
      request.log.warn({ provider: 'twitch', status }, 'twitch code exchange failed')
      return flow.fail(reply, returnTo, 'exchange_failed')
    }
    let account
    try {
      account = await twitch.currentUser(answer.accessToken)
    } catch (error) {
      request.log.warn({ provider: 'twitch', err: { message: (error as Error).message } }, 'could not read the twitch user')
      return flow.fail(reply, returnTo, 'exchange_failed')
    }
    return await flow.complete(request, reply, {
      provider: 'twitch',
      account,
      tokens: {
        accessToken: answer.accessToken,
        refreshToken: answer.refreshToken,
        tokenSecret: null,
        expiresAt: answer.expiresIn === undefined ? null : new Date(now() + answer.expiresIn * 1000),
        scopes: answer.scopes
      },
      returnTo,
      // This consent made a new grant that nobody will use: end it at Twitch.
      onRefused: async () => { await twitch.revoke(answer.accessToken) }
    })
  })
}
