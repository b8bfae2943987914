import t from 'tap'
import { baseStringUri, buildAuthorizationHeader, hmacSha1Signature, signatureBaseString, type Param } from '../src/oauth1.js'
import { X, X_CALLBACK, nonce, startSim, xAuthorize } from './helpers.js'

/**
 * RFC 5849 §3.5: the protocol parameters may travel in the Authorization header, in a form body or in
 * the query string, and X reads them from any of those. Each signed leg of the three-legged flow is
 * tried with its own parameter (oauth_callback, oauth_token + oauth_verifier) in every placement, and
 * with every protocol parameter out of the header.
 */

type Placement = 'header' | 'query' | 'form'

interface LegRequest {
  path: string
  token?: { token: string, secret: string }
  /** The leg's own protocol parameters (oauth_callback, oauth_verifier). */
  own: Param[]
  /** Where the leg's own parameters go. */
  own_at: Placement
  /** Where the standard parameters (consumer key, nonce, signature …) go. */
  rest_at: Placement
}

async function signedLeg (baseUrl: string, leg: LegRequest): Promise<Response> {
  const standard: Param[] = [
    ['oauth_consumer_key', X.consumerKey],
    ['oauth_nonce', nonce()],
    ['oauth_signature_method', 'HMAC-SHA1'],
    ['oauth_timestamp', String(Math.floor(Date.now() / 1000))],
    ['oauth_version', '1.0'],
    ...(leg.token === undefined ? [] : [['oauth_token', leg.token.token] as const])
  ]
  const placed: Record<Placement, Param[]> = { header: [], query: [], form: [] }
  placed[leg.rest_at].push(...standard)
  placed[leg.own_at].push(...leg.own)
  const url = `${baseUrl}${leg.path}`
  const base = signatureBaseString('POST', baseStringUri(url), [...standard, ...leg.own])
  placed[leg.rest_at].push(['oauth_signature', hmacSha1Signature(base, X.consumerSecret, leg.token?.secret ?? '')])

  const query = placed.query.length === 0 ? '' : `?${new URLSearchParams(placed.query.map(([k, v]) => [k, v] as [string, string])).toString()}`
  const init: RequestInit & { headers: Record<string, string> } = { method: 'POST', headers: {} }
  if (placed.header.length > 0) init.headers.authorization = buildAuthorizationHeader(placed.header)
  if (placed.form.length > 0) init.body = new URLSearchParams(placed.form.map(([k, v]) => [k, v] as [string, string]))
  return fetch(`${url}${query}`, init)
}

const PLACEMENTS: Array<{ own_at: Placement, rest_at: Placement }> = [
  { own_at: 'header', rest_at: 'header' },
  { own_at: 'form', rest_at: 'header' },
  { own_at: 'query', rest_at: 'header' },
  { own_at: 'form', rest_at: 'form' },
  { own_at: 'query', rest_at: 'query' }
]

t.test('X OAuth 1.0a protocol parameters in every placement', async (t) => {
  const sim = await startSim(t)

  for (const { own_at, rest_at } of PLACEMENTS) {
    t.test(`own parameters in the ${own_at}, the others in the ${rest_at}: the whole flow works`, async (t) => {
      // Leg 1: request_token with oauth_callback.
      const requested = await signedLeg(sim.twitterApiUrl, { path: '/oauth/request_token', own: [['oauth_callback', X_CALLBACK]], own_at, rest_at })
      t.equal(requested.status, 200, await requested.clone().text())
      const request = new URLSearchParams(await requested.text())
      t.equal(request.get('oauth_callback_confirmed'), 'true')
      const token = { token: request.get('oauth_token')!, secret: request.get('oauth_token_secret')! }

      // Leg 2: the browser visits authorize with the request token in its query (the only place a
      // redirect can carry it) and comes back to the callback the first leg registered.
      const callback = await xAuthorize(sim, token.token, 'sim_mid')
      t.equal(`${callback.origin}${callback.pathname}`, X_CALLBACK, 'the callback sent in this placement was registered')
      const verifier = callback.searchParams.get('oauth_verifier')!

      // Leg 3: access_token with oauth_verifier (and the request token with the standard ones).
      const exchanged = await signedLeg(sim.twitterApiUrl, { path: '/oauth/access_token', token, own: [['oauth_verifier', verifier]], own_at, rest_at })
      t.equal(exchanged.status, 200, await exchanged.clone().text())
      t.equal(new URLSearchParams(await exchanged.text()).get('screen_name'), 'sim_mid')
    })
  }

  t.test('a callback moved out of the signature is refused, wherever it is placed', async (t) => {
    for (const own_at of ['form', 'query'] as const) {
      // Signed with one callback, sent with another: the signature no longer verifies.
      const standard: Param[] = [
        ['oauth_consumer_key', X.consumerKey], ['oauth_nonce', nonce()], ['oauth_signature_method', 'HMAC-SHA1'],
        ['oauth_timestamp', String(Math.floor(Date.now() / 1000))], ['oauth_version', '1.0']
      ]
      const url = `${sim.twitterApiUrl}/oauth/request_token`
      const signature = hmacSha1Signature(signatureBaseString('POST', baseStringUri(url), [...standard, ['oauth_callback', X_CALLBACK]]), X.consumerSecret)
      const sent = new URLSearchParams([['oauth_callback', 'https://attacker.example/cb']])
      const res = await fetch(own_at === 'query' ? `${url}?${sent.toString()}` : url, {
        method: 'POST',
        headers: { authorization: buildAuthorizationHeader([...standard, ['oauth_signature', signature]]) },
        ...(own_at === 'form' ? { body: sent } : {})
      })
      t.equal(res.status, 401, `callback in the ${own_at}`)
    }
  })

  t.test('a body callback that is not a URL is refused with the 415 XML answer', async (t) => {
    const res = await signedLeg(sim.twitterApiUrl, { path: '/oauth/request_token', own: [['oauth_callback', 'not a url']], own_at: 'form', rest_at: 'header' })
    t.equal(res.status, 403)
    t.match(await res.text(), '<error code="415">Callback URL not approved')
  })
})
