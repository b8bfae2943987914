import { ErrorResponseSchema } from '@pulse/contracts'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import type { AuthConfig } from '../config.js'
import { AuthTooManySignInStartsError } from '../errors.js'
import type { AddressLimit } from '../login-throttle.js'
import { starterOf, type OAuthAttempts } from '../oauth/attempts.js'
import type { ConnectionFlow } from '../oauth/flow.js'
import { safeReturnPath } from '../oauth/return-to.js'
import { ProviderUnavailable, below } from '../providers/http.js'
import type { TwitterClient } from '../providers/twitter.js'
import type { TokenCipher } from '../tokens/token-cipher.js'
import { LoginQuerySchema, RedirectSchema } from './oauth-schemas.js'

export interface TwitterRoutesOptions {
  config: AuthConfig
  attempts: OAuthAttempts
  flow: ConnectionFlow
  x: TwitterClient
  cipher: TokenCipher
  /** Per-address budget of flow starts: each one costs a request_token call against the app's X quota. */
  starts: AddressLimit
}

const TwitterCallbackQuerySchema = Type.Object({
  oauth_token: Type.Optional(Type.String()),
  oauth_verifier: Type.Optional(Type.String()),
  denied: Type.Optional(Type.String())
})

/** The request token secret is encrypted while it waits in Redis, bound to its request token. */
const secretContext = (requestToken: string) => `pulse-auth:oauth-attempt:twitter:${requestToken}`

/**
 * Sign in with X, or connect X to the logged-in account: OAuth 1.0a (docs/providers.md §2.1). The
 * request token plays the part of Twitch's state: the browser-bound attempt (oauth/attempts.ts)
 * expects exactly the request token issued to this browser, keeps its secret server-side, and is
 * usable once, so a token issued to another browser, a replayed callback or one without a
 * verifier never reaches X's access_token endpoint.
 */
export default async function twitterRoutes (fastify: FastifyInstance, { config, attempts, flow, x, cipher, starts }: TwitterRoutesOptions) {
  // Every route's request and reply types come from its schema.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  // Built from configuration, never from the request's Host or X-Forwarded-* (docs/pitfalls.md, "OAuth").
  const callbackUrl = below(config.PUBLIC_URL, '/auth/twitter/callback')

  app.get('/auth/twitter/login', {
    config: { public: true },
    schema: {
      tags: ['connections'],
      summary: 'Sign in with X (or connect X when logged in): redirects to X',
      security: [],
      querystring: LoginQuerySchema,
      response: { 302: RedirectSchema, 429: ErrorResponseSchema, 503: ErrorResponseSchema }
    }
  }, async (request, reply) => {
    const returnTo = safeReturnPath(request.query.returnTo, config.FRONTEND_URL)
    const verdict = await starts.attempt(request.clientIp)
    if (!verdict.allowed) {
      void reply.header('retry-after', String(verdict.retryAfterSeconds))
      throw new AuthTooManySignInStartsError()
    }
    let issued
    try {
      issued = await x.requestToken(callbackUrl)
    } catch (error) {
      if (!(error instanceof ProviderUnavailable)) throw error
      request.log.warn({ provider: 'twitter', call: error.call, status: error.status }, 'could not start the X flow')
      return flow.fail(reply, returnTo, 'provider_unavailable')
    }
    await attempts.begin(reply, 'twitter', {
      ...starterOf(request),
      expect: issued.token,
      returnTo,
      sealedSecret: { value: cipher.encrypt(issued.secret, secretContext(issued.token)), keyId: cipher.currentKeyId }
    })
    return reply.redirect(x.authenticateUrl(issued.token), 302)
  })

  app.get('/auth/twitter/callback', {
    config: { public: true },
    schema: {
      tags: ['connections'],
      summary: 'Where X sends the browser back: signs in or links, then redirects to returnTo (with ?error= on failure)',
      security: [],
      querystring: TwitterCallbackQuerySchema,
      response: { 302: RedirectSchema, 503: ErrorResponseSchema }
    }
  }, async (request, reply) => {
    const query = request.query
    // X reports a refusal with `denied=<request token>` instead of oauth_token and a verifier.
    const taken = await attempts.take(request, reply, 'twitter', query.denied ?? query.oauth_token)
    if (!taken.ok) return flow.fail(reply, taken.returnTo, 'invalid_state')
    const { attempt } = taken
    if (query.denied !== undefined) return flow.fail(reply, attempt.returnTo, 'twitter_denied')
    if (query.oauth_verifier === undefined || query.oauth_verifier === '' || attempt.sealedSecret === undefined || attempt.expect === undefined) {
      return flow.fail(reply, attempt.returnTo, 'invalid_state')
    }
    const requestSecret = cipher.decrypt(attempt.sealedSecret.value, attempt.sealedSecret.keyId, secretContext(attempt.expect))
    let access
    try {
      access = await x.accessToken(attempt.expect, requestSecret, query.oauth_verifier)
    } catch (error) {
      request.log.warn({ provider: 'twitter', err: { message: (error as Error).message } }, 'X access_token exchange failed')
      return flow.fail(reply, attempt.returnTo, 'exchange_failed')
    }
    // A refused link does not invalidate the token: X gives an app that is authorized again the
    // same access token, so it may be the one another user's connection holds.
    return await flow.complete(request, reply, {
      provider: 'twitter',
      account: { id: access.userId, login: access.screenName, displayName: access.screenName },
      tokens: { accessToken: access.token, refreshToken: null, tokenSecret: access.secret, expiresAt: null, scopes: [] },
      userId: attempt.userId,
      returnTo: attempt.returnTo
    })
  })
}
