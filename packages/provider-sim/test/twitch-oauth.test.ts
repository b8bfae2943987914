import t from 'tap'
import { REDIRECT_URI, TWITCH, authorize, authorizeUrl, helix, json, startSim, twitchCode, twitchLogin, twitchPost } from './helpers.js'

const exchange = (code: string, redirectUri = REDIRECT_URI) => ({
  client_id: TWITCH.clientId, client_secret: TWITCH.clientSecret, code, grant_type: 'authorization_code', redirect_uri: redirectUri
})
const refresh = (refreshToken: string) => ({
  client_id: TWITCH.clientId, client_secret: TWITCH.clientSecret, grant_type: 'refresh_token', refresh_token: refreshToken
})

t.test('authorize', async (t) => {
  const sim = await startSim(t)

  t.test('scripted approval redirects at once with code, scope and state', async (t) => {
    const { status, location } = await authorize(sim, { user: 'sim_big', decision: 'approve', scopes: ['user:read:email', 'bits:read'], state: 'st4te' })
    t.equal(status, 302)
    t.equal(`${location.origin}${location.pathname}`, REDIRECT_URI)
    t.match(location.searchParams.get('code'), /^[a-z0-9]{30}$/)
    t.equal(location.searchParams.get('scope'), 'user:read:email bits:read')
    t.equal(location.searchParams.get('state'), 'st4te')
    t.match(location.search, /scope=user%3Aread%3Aemail\+bits%3Aread/, 'scope is URL-encoded and +-joined as Twitch writes it')
  })

  t.test('scripted denial redirects with error=access_denied, a description and the state', async (t) => {
    const { status, location } = await authorize(sim, { user: 'sim_big', decision: 'deny', state: 'abc' })
    t.equal(status, 302)
    t.equal(location.searchParams.get('error'), 'access_denied')
    t.equal(location.searchParams.get('error_description'), 'The user denied you access')
    t.equal(location.searchParams.get('state'), 'abc')
    t.equal(location.searchParams.get('code'), null)
  })

  t.test('without the scripted parameters it is an HTML page listing the users to choose from', async (t) => {
    const res = await fetch(authorizeUrl(sim, { scopes: ['bits:read'], state: 'x' }), { redirect: 'manual' })
    t.equal(res.status, 200)
    t.match(res.headers.get('content-type'), /^text\/html/)
    const html = await res.text()
    for (const login of ['sim_big', 'sim_mid', 'sim_new']) t.match(html, `value="${login}"`)
    t.match(html, 'name="sim_decision" value="approve"')
    t.match(html, 'name="sim_decision" value="deny"')
    t.match(html, 'name="state" value="x"', 'the original query travels with the form')
  })

  t.test('an unknown client or scope is refused with Twitch\'s {status, message}', async (t) => {
    let res = await fetch(authorizeUrl(sim, { clientId: 'nope', user: 'sim_big', decision: 'approve' }), { redirect: 'manual' })
    t.equal(res.status, 400)
    t.same(await json(res), { status: 400, message: 'invalid client' })
    res = await fetch(authorizeUrl(sim, { scopes: ['user:read:everything'], user: 'sim_big', decision: 'approve' }), { redirect: 'manual' })
    t.equal(res.status, 400)
    t.match(await json(res), { status: 400, message: /invalid scope/ })
  })
})

t.test('token exchange', async (t) => {
  const sim = await startSim(t)

  t.test('answers the documented shape, with scope as an array', async (t) => {
    const code = await twitchCode(sim, 'sim_big', ['channel:read:subscriptions', 'user:read:email'])
    const res = await twitchPost(sim, '/token', exchange(code))
    t.equal(res.status, 200)
    t.match(res.headers.get('content-type'), /^application\/json/)
    const body = await json(res)
    t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
    t.match(body, { access_token: /^[a-z0-9]{30}$/, refresh_token: String, token_type: 'bearer' })
    t.same(body.scope, ['channel:read:subscriptions', 'user:read:email'])
    t.ok(body.expires_in > 13_000 && body.expires_in <= 14_400, 'about four hours')
  })

  t.test('accepts the parameters in the query string of a bodiless POST', async (t) => {
    const code = await twitchCode(sim, 'sim_mid', [])
    const res = await fetch(`${sim.twitchAuthUrl}/token?${new URLSearchParams(exchange(code)).toString()}`, { method: 'POST' })
    t.equal(res.status, 200)
    t.same((await json(res)).scope, [])
  })

  t.test('a code works once', async (t) => {
    const code = await twitchCode(sim, 'sim_big', [])
    t.equal((await twitchPost(sim, '/token', exchange(code))).status, 200)
    const again = await twitchPost(sim, '/token', exchange(code))
    t.equal(again.status, 400)
    t.same(await json(again), { status: 400, message: 'Invalid authorization code' })
  })

  t.test('the redirect_uri must match the one used at authorize exactly', async (t) => {
    const code = await twitchCode(sim, 'sim_big', [])
    for (const wrong of [`${REDIRECT_URI}/`, `${REDIRECT_URI}?x=1`, REDIRECT_URI.replace('127.0.0.1', 'localhost'), REDIRECT_URI.toUpperCase()]) {
      const res = await twitchPost(sim, '/token', exchange(code, wrong))
      t.equal(res.status, 400, wrong)
      t.same(await json(res), { status: 400, message: 'Parameter redirect_uri does not match registeredURI' })
    }
    t.equal((await twitchPost(sim, '/token', exchange(code))).status, 200, 'the right one still works')
  })

  t.test('a code expires', async (t) => {
    const code = await twitchCode(sim, 'sim_big', [])
    sim.control.advanceClock(11 * 60_000)
    const res = await twitchPost(sim, '/token', exchange(code))
    t.equal(res.status, 400)
    t.same(await json(res), { status: 400, message: 'Invalid authorization code' })
  })

  t.test('an unknown client is 400 and a wrong secret 403, with the real bodies', async (t) => {
    const code = await twitchCode(sim, 'sim_big', [])
    let res = await twitchPost(sim, '/token', { ...exchange(code), client_id: 'unknownclient' })
    t.equal(res.status, 400)
    t.same(await json(res), { status: 400, message: 'invalid client' })
    res = await twitchPost(sim, '/token', { ...exchange(code), client_secret: 'wrong' })
    t.equal(res.status, 403)
    t.same(await json(res), { status: 403, message: 'invalid client secret' })
  })
})

t.test('refresh', async (t) => {
  const sim = await startSim(t)

  t.test('rotates the refresh token: the new one works, the old one is refused', async (t) => {
    const first = await twitchLogin(sim, 'sim_big', ['bits:read'])
    const res = await twitchPost(sim, '/token', refresh(first.refresh_token))
    t.equal(res.status, 200)
    const second = await json(res)
    t.same(Object.keys(second).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
    t.same(second.scope, ['bits:read'], 'scope is still an array')
    t.not(second.refresh_token, first.refresh_token)
    t.not(second.access_token, first.access_token)

    const reused = await twitchPost(sim, '/token', refresh(first.refresh_token))
    t.equal(reused.status, 400)
    t.same(await json(reused), { status: 400, message: 'Invalid refresh token' })
    t.equal((await twitchPost(sim, '/token', refresh(second.refresh_token))).status, 200)
  })

  t.test('a refresh token sent without URL-encoding is invalid', async (t) => {
    const { refresh_token: token } = await twitchLogin(sim, 'sim_mid')
    t.match(token, /%[0-9A-F]{2}/, 'refresh tokens carry characters that need encoding')
    const raw = `client_id=${TWITCH.clientId}&client_secret=${TWITCH.clientSecret}&grant_type=refresh_token&refresh_token=${token}`
    const res = await fetch(`${sim.twitchAuthUrl}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: raw })
    t.equal(res.status, 400)
    t.same(await json(res), { status: 400, message: 'Invalid refresh token' })
    t.equal((await twitchPost(sim, '/token', refresh(token))).status, 200, 'encoded, the same token works')
  })

  t.test('a missing refresh token has its own message', async (t) => {
    const res = await twitchPost(sim, '/token', { client_id: TWITCH.clientId, client_secret: TWITCH.clientSecret, grant_type: 'refresh_token' })
    t.equal(res.status, 400)
    t.same(await json(res), { status: 400, message: 'missing refresh token' })
  })

  t.test('an expired access token is refused and a refresh brings a working one', async (t) => {
    const tokens = await twitchLogin(sim, 'sim_mid')
    sim.control.advanceClock(5 * 3_600_000)
    const expired = await helix(sim, '/users', tokens.access_token)
    t.equal(expired.status, 401)
    const renewed = await json(await twitchPost(sim, '/token', refresh(tokens.refresh_token)))
    t.equal((await helix(sim, '/users', renewed.access_token)).status, 200)
  })
})

t.test('client credentials give an app token without a refresh token', async (t) => {
  const sim = await startSim(t)
  const res = await twitchPost(sim, '/token', { client_id: TWITCH.clientId, client_secret: TWITCH.clientSecret, grant_type: 'client_credentials' })
  t.equal(res.status, 200)
  const body = await json(res)
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type'])
  const validated = await json(await fetch(`${sim.twitchAuthUrl}/validate`, { headers: { Authorization: `OAuth ${body.access_token}` } }))
  t.same(Object.keys(validated).sort(), ['client_id', 'expires_in', 'scopes'])
  t.same(validated.scopes, [])
})

t.test('validate', async (t) => {
  const sim = await startSim(t)
  const tokens = await twitchLogin(sim, 'sim_big', ['user:read:email'])
  const validate = (authorization?: string) => fetch(`${sim.twitchAuthUrl}/validate`, { headers: authorization === undefined ? {} : { Authorization: authorization } })

  t.test('answers client, login, scopes, user id and remaining lifetime for an OAuth token', async (t) => {
    const res = await validate(`OAuth ${tokens.access_token}`)
    t.equal(res.status, 200)
    const body = await json(res)
    const expected = sim.control.expectedTwitch('sim_big')
    t.same(body, { client_id: TWITCH.clientId, login: 'sim_big', scopes: ['user:read:email'], user_id: expected.userId, expires_in: body.expires_in })
    t.ok(body.expires_in > 0 && body.expires_in <= tokens.expires_in)
  })

  t.test('refuses a missing or unknown token with Twitch\'s bodies', async (t) => {
    let res = await validate()
    t.equal(res.status, 401)
    t.same(await json(res), { status: 401, message: 'missing authorization token' })
    res = await validate('OAuth notarealtoken')
    t.equal(res.status, 401)
    t.same(await json(res), { status: 401, message: 'invalid access token' })
  })
})

t.test('revoke', async (t) => {
  const sim = await startSim(t)

  t.test('answers 200 with an empty body; the token then fails validate and Helix', async (t) => {
    const tokens = await twitchLogin(sim, 'sim_big')
    const res = await twitchPost(sim, '/revoke', { client_id: TWITCH.clientId, token: tokens.access_token })
    t.equal(res.status, 200)
    t.equal(await res.text(), '')
    t.equal((await fetch(`${sim.twitchAuthUrl}/validate`, { headers: { Authorization: `OAuth ${tokens.access_token}` } })).status, 401)
    t.equal((await helix(sim, '/users', tokens.access_token)).status, 401)
    t.equal((await twitchPost(sim, '/token', refresh(tokens.refresh_token))).status, 400, 'the grant is gone, refresh included')
  })

  t.test('an unknown token is 400 and an unknown client 404', async (t) => {
    let res = await twitchPost(sim, '/revoke', { client_id: TWITCH.clientId, token: 'nope' })
    t.equal(res.status, 400)
    t.same(await json(res), { status: 400, message: 'Invalid token' })
    res = await twitchPost(sim, '/revoke', { client_id: 'someoneelse', token: 'nope' })
    t.equal(res.status, 404)
    t.same(await json(res), { status: 404, message: 'client does not exist' })
  })
})
