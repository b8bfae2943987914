import type { FastifyError, FastifyPluginAsync, FastifyReply } from 'fastify'
import { sendConsentPage } from './consent-page.js'
import { plannedFault } from './endpoint.js'
import { X_V1 } from './errors.js'
import { escapeHtml, queryOne, withQuery } from './http.js'
import type { SimState } from './state.js'
import { xProfile } from './x-data.js'
import { verifyOAuth1, type OAuth1Failure } from './x-signature.js'

/**
 * X's OAuth 1.0a three-legged flow (docs/providers.md §2.1): request_token → authorize/authenticate →
 * access_token, and invalidate_token. Token answers are form-encoded text, not JSON.
 */

const CALLBACK_NOT_APPROVED = '<?xml version="1.0" encoding="UTF-8"?>\n<errors><error code="415">Callback URL not approved for this client application. Approved callback URLs can be adjusted in your application settings</error></errors>'

/** X sends these form-encoded answers as text/html (observed on the wire). */
function sendForm (reply: FastifyReply, params: Record<string, string>) {
  return reply.type('text/html; charset=utf-8').send(new URLSearchParams(params).toString())
}

function sendOAuth1Failure (reply: FastifyReply, failure: OAuth1Failure) {
  switch (failure) {
    case 'missing': return reply.code(400).send({ errors: [{ code: 215, message: 'Bad Authentication data.' }] })
    case 'timestamp': return reply.code(401).send(X_V1.timestamp())
    case 'token': return reply.code(401).send(X_V1.invalidToken())
    case 'signature': return reply.code(401).send(X_V1.couldNotAuthenticate())
  }
}

function acceptableCallback (callback: string | undefined): callback is string {
  if (callback === 'oob') return true
  try {
    const url = new URL(callback ?? '')
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

export const xOAuth1: FastifyPluginAsync<{ state: SimState }> = async (app, { state }) => {
  const { world, xTokens, clock } = state

  app.addHook('onRequest', async (request, reply) => {
    const fault = plannedFault(state, request)
    if (fault === undefined) return
    const body = fault === 429 ? X_V1.rateLimited() : fault === 503 ? X_V1.overCapacity() : X_V1.internal()
    return reply.code(fault).send(body)
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    // Client errors (an unreadable body) go on to the root handler; only 5xx get X's v1.1 body.
    if (error.statusCode !== undefined && error.statusCode < 500) throw error
    request.log.error({ err: error }, 'x oauth handler failed')
    return reply.code(500).send(X_V1.internal())
  })

  app.post('/oauth/request_token', async (request, reply) => {
    const verified = verifyOAuth1(state, request, () => undefined)
    if (!verified.ok) return sendOAuth1Failure(reply, verified.failure)
    const callback = verified.oauth.get('oauth_callback')
    // Every http(s) callback counts as registered for the development app; anything else is refused.
    if (!acceptableCallback(callback)) return reply.code(403).type('application/xml; charset=utf-8').send(CALLBACK_NOT_APPROVED)
    const issued = xTokens.issueRequestToken(verified.consumerKey, callback, clock.now())
    return sendForm(reply, { oauth_token: issued.token, oauth_token_secret: issued.secret, oauth_callback_confirmed: 'true' })
  })

  // authorize always asks; authenticate ("Sign in with X") would skip the prompt for a returning
  // user. Here both show the page unless the scripted parameters are given.
  for (const path of ['/oauth/authorize', '/oauth/authenticate']) {
    app.get(path, async (request, reply) => {
      const token = queryOne(request, 'oauth_token') ?? ''
      const pending = xTokens.requestToken(token, clock.now())
      if (pending === undefined) {
        return reply.code(400).type('text/html; charset=utf-8')
          .send('<!doctype html><title>X (simulated)</title><p>This page is no longer valid. It looks like someone already used the token information you provided. Please return to the site that sent you to this page and try again.</p>')
      }
      const decision = queryOne(request, 'sim_decision')
      const login = queryOne(request, 'sim_user') ?? queryOne(request, 'screen_name')
      if (decision === 'deny') {
        xTokens.dropRequestToken(token)
        if (pending.callback === 'oob') return reply.type('text/html; charset=utf-8').send('<!doctype html><p>You did not authorize the app.</p>')
        // X reports a refusal with `denied=<request token>` instead of a verifier.
        return reply.redirect(withQuery(pending.callback, { denied: token }), 302)
      }
      if (decision === 'approve') {
        const persona = login === undefined ? undefined : world.persona(login)
        if (persona === undefined) return reply.code(400).type('text/html; charset=utf-8').send(`<!doctype html><p>Unknown sim_user: ${escapeHtml(login ?? '')}</p>`)
        const verifier = xTokens.approve(token, persona.x.id)
        if (pending.callback === 'oob') {
          return reply.type('text/html; charset=utf-8').send(`<!doctype html><p>Enter this PIN in the app: <code id="oauth_pin">${verifier}</code></p>`)
        }
        return reply.redirect(withQuery(pending.callback, { oauth_token: token, oauth_verifier: verifier }), 302)
      }
      if (decision !== undefined) return reply.code(400).type('text/html; charset=utf-8').send('<!doctype html><p>sim_decision must be approve or deny</p>')
      const hour = state.hour()
      return sendConsentPage(request, reply, {
        provider: 'X', wants: ['Read posts and profile information'], personas: world.personas, profileOf: (p) => xProfile(world, p, hour)
      })
    })
  }

  app.post('/oauth/access_token', async (request, reply) => {
    const now = clock.now()
    const verified = verifyOAuth1(state, request, (token) => xTokens.requestToken(token, now)?.secret)
    if (!verified.ok) return sendOAuth1Failure(reply, verified.failure)
    const token = verified.token
    const pending = token === undefined ? undefined : xTokens.requestToken(token, now)
    if (token === undefined || pending === undefined) return reply.code(401).send(X_V1.invalidToken())
    const verifier = verified.oauth.get('oauth_verifier')
    // Request tokens are single-use: whatever happens now, this one is spent.
    xTokens.dropRequestToken(token)
    if (pending.approval === undefined || verifier !== pending.approval.verifier) {
      return reply.code(401).type('text/plain; charset=utf-8').send('Error processing your OAuth request: Invalid oauth_verifier parameter')
    }
    const persona = world.personaByXId(pending.approval.userId)!
    const access = xTokens.accessTokenFor(verified.consumerKey, persona.x.id)
    return sendForm(reply, { oauth_token: access.token, oauth_token_secret: access.secret, user_id: persona.x.id, screen_name: persona.login })
  })

  app.post('/1.1/oauth/invalidate_token', async (request, reply) => {
    const verified = verifyOAuth1(state, request, (token) => xTokens.accessToken(token)?.secret)
    if (!verified.ok) return sendOAuth1Failure(reply, verified.failure)
    if (verified.token === undefined) return reply.code(401).send(X_V1.invalidToken())
    xTokens.invalidate(verified.token)
    return { access_token: verified.token }
  })
}
