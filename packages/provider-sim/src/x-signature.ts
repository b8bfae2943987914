import type { FastifyRequest } from 'fastify'
import { SIM_CREDENTIALS } from './credentials.js'
import { formBodyPairs, header, rawQueryPairs } from './http.js'
import { parseAuthorizationHeader, verifySignature, type Param } from './oauth1.js'
import type { SimState } from './state.js'

/**
 * Server-side checks of an OAuth 1.0a request (RFC 5849 §3.2), as X makes them: known consumer,
 * HMAC-SHA1, a timestamp near the server's time, a nonce not seen before, and the signature over
 * the query, a form body and the oauth_* parameters (docs/providers.md §2.2).
 */

const CONSUMERS = new Map<string, string>([[SIM_CREDENTIALS.twitter.consumerKey, SIM_CREDENTIALS.twitter.consumerSecret]])

/** RFC 5849 §3.3 leaves the window to the server; five minutes either way is the usual choice. */
const TIMESTAMP_WINDOW_S = 300
const NONCE_MEMORY_MS = 2 * TIMESTAMP_WINDOW_S * 1000 + 60_000

export type OAuth1Failure =
  | 'missing' // no OAuth parameters, or some required one is absent: "Bad Authentication data"
  | 'signature' // unknown consumer, wrong method or signature, reused nonce: "Could not authenticate you"
  | 'timestamp' // "Timestamp out of bounds"
  | 'token' // unknown or revoked token: "Invalid or expired token"

export type OAuth1Result =
  | { ok: true, consumerKey: string, token: string | undefined, oauth: ReadonlyMap<string, string> }
  | { ok: false, failure: OAuth1Failure }

const REQUIRED = ['oauth_consumer_key', 'oauth_nonce', 'oauth_signature', 'oauth_signature_method', 'oauth_timestamp'] as const

/**
 * The oauth_* protocol parameters (RFC 5849 §3.5): those of the Authorization header, then any sent
 * in the query string or a form body. X reads them wherever they are, so a client that signs with the
 * header but sends `oauth_callback` or `oauth_verifier` in the body (a common library behaviour) is
 * understood; the header wins when a name appears twice. `fromHeader` lists what the header carried:
 * those are signed as extra pairs, while query and body pairs are signed where they stand.
 */
function oauthParameters (request: FastifyRequest, query: Param[], form: Param[]): { params: Map<string, string>, fromHeader: Param[] } | undefined {
  const authorization = header(request, 'authorization')
  let fromHeader: Param[] = []
  if (authorization !== undefined && /^OAuth\s/i.test(authorization)) {
    const parsed = parseAuthorizationHeader(authorization)
    if (parsed === undefined) return undefined
    fromHeader = [...parsed]
  }
  const params = new Map([...query, ...form].filter(([k]) => k.startsWith('oauth_')))
  for (const [k, v] of fromHeader) params.set(k, v)
  return params.size === 0 ? undefined : { params, fromHeader }
}

function seenNonce (state: SimState, key: string): boolean {
  const realNow = Date.now()
  if (state.nonces.size > 5_000) {
    for (const [k, until] of state.nonces) if (until <= realNow) state.nonces.delete(k)
  }
  const until = state.nonces.get(key)
  if (until !== undefined && until > realNow) return true
  state.nonces.set(key, realNow + NONCE_MEMORY_MS)
  return false
}

/**
 * Verifies the request. `tokenSecret` returns the secret of the request's oauth_token, or
 * undefined when that token is unknown here (the caller decides which kind of token is valid).
 */
export function verifyOAuth1 (state: SimState, request: FastifyRequest, tokenSecret: (token: string) => string | undefined): OAuth1Result {
  const query = rawQueryPairs(request)
  const form = formBodyPairs(request)
  const found = oauthParameters(request, query, form)
  if (found === undefined || REQUIRED.some((k) => !found.params.has(k))) return { ok: false, failure: 'missing' }
  const { params } = found
  const consumerKey = params.get('oauth_consumer_key')!
  const consumerSecret = CONSUMERS.get(consumerKey)
  if (consumerSecret === undefined) return { ok: false, failure: 'signature' }
  if (params.get('oauth_signature_method') !== 'HMAC-SHA1') return { ok: false, failure: 'signature' }
  if (params.has('oauth_version') && params.get('oauth_version') !== '1.0') return { ok: false, failure: 'signature' }

  // Clients stamp requests with their own wall clock, which the simulator's clock may have been
  // moved away from by a test: a timestamp near either one is accepted.
  const timestamp = Number(params.get('oauth_timestamp'))
  const near = (ms: number) => Math.abs(timestamp - ms / 1000) <= TIMESTAMP_WINDOW_S
  if (!/^\d+$/.test(params.get('oauth_timestamp')!) || !(near(Date.now()) || near(state.clock.now()))) {
    return { ok: false, failure: 'timestamp' }
  }

  const token = params.get('oauth_token')
  let secret = ''
  if (token !== undefined && token !== '') {
    const known = tokenSecret(token)
    if (known === undefined) return { ok: false, failure: 'token' }
    secret = known
  }

  // oauth_* parameters sent in the query or the body are already among those pairs; the header's
  // are added (oauth_signature is left out of the base string by verifySignature).
  const all: Param[] = [...query, ...form, ...found.fromHeader]
  const path = request.url.split('?')[0] ?? '/'
  const url = `${request.protocol}://${request.host}${path}`
  if (!verifySignature({ method: request.method, url, params: all, consumerSecret, tokenSecret: secret })) return { ok: false, failure: 'signature' }

  // A nonce counts only once the signature is good, so forged requests cannot burn nonces.
  if (seenNonce(state, `${consumerKey}\u0000${token ?? ''}\u0000${params.get('oauth_nonce')!}`)) return { ok: false, failure: 'signature' }
  return { ok: true, consumerKey, token: token === '' ? undefined : token, oauth: params }
}
