import fastifyOauth2 from '@fastify/oauth2'
import { ErrorResponseSchema } from '@pulse/contracts'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import Type, { type Static } from 'typebox'
import type { AuthConfig } from '../config.js'
import { OAuthAttempts, starterOf, type TakenAttempt } from '../oauth/attempts.js'
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

type TwitchCallbackQuery = Static<typeof TwitchCallbackQuerySchema>

/**
 * Sign in with Twitch, or connect Twitch to the logged-in account: the authorization code flow
 * (docs/providers.md §1.1) with PKCE (RFC 7636), through @fastify/oauth2 as it is designed to be
 * used: it builds the authorize URL, sets and clears its state and PKCE verifier cookies, and
 * exchanges the code. Its state hooks connect it to Pulse's attempts (oauth/attempts.ts):
 *
 * - generateStateFunction gives a 256-bit random state; the login route then keeps the attempt
 *   (returnTo, sign-in or connect, the user, the S256 challenge of the plugin's verifier) in Redis
 *   under that state.
 * - checkStateFunction takes the attempt named by this browser's state cookie with GETDEL (single
 *   use, whatever happens next) and accepts only when Twitch echoed that state, this browser holds
 *   the verifier whose challenge was stored (the state is seen in URLs, the verifier never is), and
 *   the same user is logged in. Only then does the plugin post the code.
 *
 * Every callback goes through the plugin, so the attempt is consumed and the cookies are cleared
 * on every path; a denial or a callback without a code takes the attempt without an exchange.
 */
export default async function twitchRoutes (fastify: FastifyInstance, { config, attempts, flow, twitch, now }: TwitchRoutesOptions) {
  // Every route's request and reply types come from its schema.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const authUrl = new URL(config.TWITCH_AUTH_URL)
  const browserAuthUrl = new URL(config.TWITCH_BROWSER_AUTH_URL ?? config.TWITCH_AUTH_URL)
  const pathOf = (url: URL) => url.pathname.replace(/\/+$/, '')
  // Built from configuration, never from the request's Host or X-Forwarded-* (docs/pitfalls.md, "OAuth").
  const redirectUri = below(config.PUBLIC_URL, '/auth/twitch/callback')
  const scopes = config.TWITCH_SCOPES.split(' ').filter((s) => s !== '')
  const stateCookie = attempts.cookieName('twitch', 'state')
  const verifierCookie = attempts.cookieName('twitch')
  /** The typed query of a callback in progress, and then what checkStateFunction found. */
  const callbacks = new WeakMap<FastifyRequest, { query: TwitchCallbackQuery, taken?: TakenAttempt }>()

  await app.register(fastifyOauth2, {
    name: 'twitch',
    credentials: {
      client: { id: config.TWITCH_CLIENT_ID, secret: config.TWITCH_CLIENT_SECRET },
      auth: {
        // The consent page is where the browser can reach Twitch; the exchange where auth can.
        authorizeHost: browserAuthUrl.origin,
        authorizePath: `${pathOf(browserAuthUrl)}/authorize`,
        tokenHost: authUrl.origin,
        tokenPath: `${pathOf(authUrl)}/token`
      },
      // Twitch wants the client credentials in the form body (docs/providers.md §1.1).
      options: { authorizationMethod: 'body' },
      http: { timeout: config.PROVIDER_TIMEOUT_MS }
    },
    callbackUri: redirectUri,
    scope: scopes,
    pkce: 'S256',
    redirectStateCookieName: stateCookie,
    verifierCookieName: verifierCookie,
    cookie: attempts.cookieOptions(),
    userAgent: 'pulse-auth',
    generateStateFunction: () => OAuthAttempts.randomValue(),
    checkStateFunction: async (request: FastifyRequest) => {
      const callback = callbacks.get(request)
      if (callback === undefined) return false
      const { query } = callback
      callback.taken = await attempts.takeByState(request, 'twitch', {
        id: request.cookies[stateCookie], echoed: query.state, verifier: request.cookies[verifierCookie]
      })
      // Twitch's denial (`error=access_denied&…&state=…`, docs/providers.md §1.1) and a callback
      // without a code use the attempt up too, but have nothing to exchange.
      return callback.taken.ok && query.error === undefined && query.code !== undefined && query.code !== ''
    }
  })
  const oauth = app.oauth2Twitch!

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
    const authorize = new URL(await oauth.generateAuthorizationUri(request, reply))
    const state = authorize.searchParams.get('state')
    const challenge = authorize.searchParams.get('code_challenge')
    if (state === null || challenge === null) throw new Error('the authorize URL lacks its state or PKCE challenge')
    await attempts.keep('twitch', state, {
      ...starterOf(request),
      returnTo: safeReturnPath(request.query.returnTo, config.FRONTEND_URL),
      challenge
    })
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
    const callback: { query: TwitchCallbackQuery, taken?: TakenAttempt } = { query }
    callbacks.set(request, callback)
    let token
    let exchangeError: unknown
    try {
      token = await oauth.getAccessTokenFromAuthorizationCodeFlow(request, reply)
    } catch (error) {
      exchangeError = error
    }
    const taken = callback.taken
    // No attempt was looked at: Redis failed inside checkStateFunction (503), or the plugin itself.
    if (taken === undefined) throw exchangeError instanceof Error ? exchangeError : new Error('the state check did not run')
    if (!taken.ok) return flow.fail(reply, taken.returnTo, 'invalid_state')
    const { returnTo, userId } = taken.attempt
    if (query.error !== undefined) return flow.fail(reply, returnTo, 'twitch_denied')
    if (token === undefined) {
      // Only the status: simple-oauth2's error carries the request it made.
      const status = (exchangeError as { output?: { statusCode?: number } } | undefined)?.output?.statusCode
      request.log.warn({ provider: 'twitch', status }, 'twitch code exchange failed')
      return flow.fail(reply, returnTo, 'exchange_failed')
    }
    let answer
    let account
    try {
      answer = tokenAnswerOf('twitch exchange', token.token)
      account = await twitch.currentUser(answer.accessToken)
    } catch (error) {
      request.log.warn({ provider: 'twitch', err: { message: (error as Error).message } }, 'could not read the twitch token answer or user')
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
      userId,
      returnTo,
      // This consent made a new grant that nobody will use: end it at Twitch.
      onRefused: async () => { await twitch.revoke(answer.accessToken) }
    })
  })
}
