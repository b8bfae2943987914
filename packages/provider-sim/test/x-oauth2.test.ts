import { createHash, randomBytes } from 'node:crypto'
import t from 'tap'
import { SIM_CREDENTIALS, type ProviderSim } from '../src/index.js'
import { json, startSim } from './helpers.js'

const CLIENT = SIM_CREDENTIALS.twitterOAuth2
const REDIRECT = 'http://127.0.0.1:3000/auth/twitter/callback'
const BASIC = `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`

function pkce () {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

function authorizeUrl (sim: ProviderSim, challenge: string, extra: Record<string, string> = {}, scope = 'tweet.read users.read offline.access') {
  const params = new URLSearchParams({
    response_type: 'code', client_id: CLIENT.clientId, redirect_uri: REDIRECT, scope, state: 'state-123',
    // The official SDK and twitter-api-v2 send the method in lower case.
    code_challenge: challenge, code_challenge_method: 's256', ...extra
  })
  return `${sim.twitterApiUrl}/i/oauth2/authorize?${params.toString()}`
}

async function codeFor (sim: ProviderSim, challenge: string, scope?: string): Promise<string> {
  const res = await fetch(authorizeUrl(sim, challenge, { sim_user: 'sim_big', sim_decision: 'approve' }, scope), { redirect: 'manual' })
  return new URL(res.headers.get('location')!).searchParams.get('code')!
}

function token (sim: ProviderSim, params: Record<string, string>, authorization: string | null = BASIC) {
  return fetch(`${sim.twitterApiUrl}/2/oauth2/token`, {
    method: 'POST', body: new URLSearchParams(params), headers: authorization === null ? {} : { Authorization: authorization }
  })
}

const exchange = (code: string, verifier: string) => ({ code, grant_type: 'authorization_code', client_id: CLIENT.clientId, redirect_uri: REDIRECT, code_verifier: verifier })

t.test('X OAuth 2.0 with PKCE', async (t) => {
  const sim = await startSim(t)

  t.test('scripted consent redirects with state and code, or error=access_denied', async (t) => {
    const { challenge } = pkce()
    let res = await fetch(authorizeUrl(sim, challenge, { sim_user: 'sim_big', sim_decision: 'approve' }), { redirect: 'manual' })
    t.equal(res.status, 302)
    const approved = new URL(res.headers.get('location')!)
    t.equal(approved.searchParams.get('state'), 'state-123')
    t.ok(approved.searchParams.get('code'))
    res = await fetch(authorizeUrl(sim, challenge, { sim_user: 'sim_big', sim_decision: 'deny' }), { redirect: 'manual' })
    const denied = new URL(res.headers.get('location')!)
    t.equal(denied.searchParams.get('error'), 'access_denied')
    t.equal(denied.searchParams.get('state'), 'state-123')
    const page = await fetch(authorizeUrl(sim, challenge))
    t.match(page.headers.get('content-type'), /^text\/html/)
    t.match(await page.text(), 'value="sim_mid"')
  })

  t.test('the token answer has scope as a space-separated string and lasts two hours', async (t) => {
    const { verifier, challenge } = pkce()
    const res = await token(sim, exchange(await codeFor(sim, challenge), verifier))
    t.equal(res.status, 200)
    const body = await json(res)
    t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
    t.match(body, { token_type: 'bearer', expires_in: 7200, scope: 'tweet.read users.read offline.access' })
  })

  t.test('no refresh token without offline.access', async (t) => {
    const { verifier, challenge } = pkce()
    const body = await json(await token(sim, exchange(await codeFor(sim, challenge, 'tweet.read users.read'), verifier)))
    t.notOk('refresh_token' in body)
    t.equal(body.scope, 'tweet.read users.read')
  })

  t.test('a code is single-use, needs the right verifier and dies after 30 seconds', async (t) => {
    const invalid = { error: 'invalid_request', error_description: 'Value passed for the authorization code was invalid.' }
    const { verifier, challenge } = pkce()
    const code = await codeFor(sim, challenge)
    const wrong = await token(sim, exchange(code, pkce().verifier))
    t.equal(wrong.status, 400)
    t.same(await json(wrong), invalid)
    t.equal((await token(sim, exchange(code, verifier))).status, 200)
    t.same(await json(await token(sim, exchange(code, verifier))), invalid, 'used twice')

    const late = pkce()
    const lateCode = await codeFor(sim, late.challenge)
    sim.control.advanceClock(31_000)
    t.same(await json(await token(sim, exchange(lateCode, late.verifier))), invalid, 'older than 30 s')
  })

  t.test('a confidential client without Basic auth is refused', async (t) => {
    const { verifier, challenge } = pkce()
    const res = await token(sim, exchange(await codeFor(sim, challenge), verifier), null)
    t.equal(res.status, 401)
    t.same(await json(res), { error: 'unauthorized_client', error_description: 'Missing valid authorization header' })
  })

  t.test('refresh tokens are single-use', async (t) => {
    const { verifier, challenge } = pkce()
    const first = await json(await token(sim, exchange(await codeFor(sim, challenge), verifier)))
    const refresh = (value: string) => token(sim, { refresh_token: value, grant_type: 'refresh_token', client_id: CLIENT.clientId })
    const second = await json(await refresh(first.refresh_token))
    t.not(second.refresh_token, first.refresh_token)
    const reused = await refresh(first.refresh_token)
    t.equal(reused.status, 400)
    t.same(await json(reused), { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' })
  })

  t.test('a user token reads /2 with Bearer; revoked, it is refused', async (t) => {
    const { verifier, challenge } = pkce()
    const body = await json(await token(sim, exchange(await codeFor(sim, challenge), verifier)))
    const me = await fetch(`${sim.twitterApiUrl}/2/users/me?user.fields=public_metrics`, { headers: { Authorization: `Bearer ${body.access_token}` } })
    t.equal(me.status, 200)
    t.equal((await json(me)).data.public_metrics.followers_count, sim.control.expectedTwitter('sim_big').followers)
    const revoke = await fetch(`${sim.twitterApiUrl}/2/oauth2/revoke`, { method: 'POST', headers: { Authorization: BASIC }, body: new URLSearchParams({ token: body.access_token, client_id: CLIENT.clientId }) })
    t.same(await json(revoke), { revoked: true })
    t.equal((await fetch(`${sim.twitterApiUrl}/2/users/me`, { headers: { Authorization: `Bearer ${body.access_token}` } })).status, 401)
  })

  t.test('revokeGrant ends OAuth 2.0 tokens too', async (t) => {
    const { verifier, challenge } = pkce()
    const body = await json(await token(sim, exchange(await codeFor(sim, challenge), verifier)))
    const me = () => fetch(`${sim.twitterApiUrl}/2/users/me`, { headers: { Authorization: `Bearer ${body.access_token}` } })
    t.equal((await me()).status, 200)
    sim.control.revokeGrant('twitter', 'sim_big')
    t.equal((await me()).status, 401)
    const refreshed = await token(sim, { refresh_token: body.refresh_token, grant_type: 'refresh_token', client_id: CLIENT.clientId })
    t.equal(refreshed.status, 400)
  })

  t.test('a token without users.read is forbidden on users/me', async (t) => {
    const { verifier, challenge } = pkce()
    const body = await json(await token(sim, exchange(await codeFor(sim, challenge, 'tweet.read'), verifier)))
    const res = await fetch(`${sim.twitterApiUrl}/2/users/me`, { headers: { Authorization: `Bearer ${body.access_token}` } })
    t.equal(res.status, 403)
    t.match(res.headers.get('content-type'), /^application\/problem\+json/)
  })
})
