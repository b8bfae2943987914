import t from 'tap'
import { signRequest } from '../src/oauth1.js'
import { X, X_CALLBACK, json, nonce, startSim, xAuthorize, xGet, xLogin, xRequestToken, xSigned } from './helpers.js'

t.test('X OAuth 1.0a', async (t) => {
  const sim = await startSim(t)

  t.test('request_token answers form-encoded text with oauth_callback_confirmed=true', async (t) => {
    const res = await xSigned(sim, 'POST', '/oauth/request_token', { oauth: [['oauth_callback', X_CALLBACK]] })
    t.equal(res.status, 200)
    t.notMatch(res.headers.get('content-type'), /json/)
    const text = await res.text()
    t.throws(() => JSON.parse(text), 'not JSON')
    const body = new URLSearchParams(text)
    t.same([...body.keys()], ['oauth_token', 'oauth_token_secret', 'oauth_callback_confirmed'])
    t.equal(body.get('oauth_callback_confirmed'), 'true')
    t.ok(body.get('oauth_token')!.length > 10 && body.get('oauth_token_secret')!.length > 10)
  })

  t.test('a callback that is not a URL or oob is refused with the 415 XML body', async (t) => {
    const res = await xSigned(sim, 'POST', '/oauth/request_token', { oauth: [['oauth_callback', 'not a url']] })
    t.equal(res.status, 403)
    t.match(await res.text(), '<error code="415">Callback URL not approved')
  })

  t.test('scripted approval redirects to the callback with the token and a verifier; denial with denied=', async (t) => {
    const request = await xRequestToken(sim)
    const approved = await xAuthorize(sim, request.token, 'sim_big')
    t.equal(`${approved.origin}${approved.pathname}`, X_CALLBACK)
    t.equal(approved.searchParams.get('oauth_token'), request.token)
    t.ok(approved.searchParams.get('oauth_verifier'))
    const other = await xRequestToken(sim)
    const denied = await xAuthorize(sim, other.token, 'sim_big', 'deny')
    t.equal(denied.searchParams.get('denied'), other.token)
    t.equal(denied.searchParams.get('oauth_verifier'), null)
  })

  t.test('without the scripted parameters authorize and authenticate show an HTML page listing the users', async (t) => {
    for (const path of ['/oauth/authorize', '/oauth/authenticate']) {
      const request = await xRequestToken(sim)
      const res = await fetch(`${sim.twitterApiUrl}${path}?oauth_token=${request.token}`)
      t.equal(res.status, 200)
      t.match(res.headers.get('content-type'), /^text\/html/)
      const html = await res.text()
      for (const login of ['sim_big', 'sim_mid', 'sim_new']) t.match(html, `value="${login}"`)
      t.match(html, `name="oauth_token" value="${request.token}"`)
    }
  })

  t.test('access_token answers form-encoded user token, user id and screen name; the request token works once', async (t) => {
    const request = await xRequestToken(sim)
    const callback = await xAuthorize(sim, request.token, 'sim_mid')
    const exchange = () => xSigned(sim, 'POST', '/oauth/access_token', {
      token: request.token, tokenSecret: request.secret, oauth: [['oauth_verifier', callback.searchParams.get('oauth_verifier')!]]
    })
    const res = await exchange()
    t.equal(res.status, 200)
    const body = new URLSearchParams(await res.text())
    t.same([...body.keys()], ['oauth_token', 'oauth_token_secret', 'user_id', 'screen_name'])
    t.equal(body.get('user_id'), sim.control.expectedTwitter('sim_mid').userId)
    t.equal(body.get('screen_name'), 'sim_mid')
    t.match(body.get('oauth_token'), new RegExp(`^${body.get('user_id')}-`))

    const again = await exchange()
    t.equal(again.status, 401)
    t.same(await json(again), { errors: [{ code: 89, message: 'Invalid or expired token.' }] })
  })

  t.test('a wrong verifier is refused and spends the request token', async (t) => {
    const request = await xRequestToken(sim)
    await xAuthorize(sim, request.token, 'sim_mid')
    const res = await xSigned(sim, 'POST', '/oauth/access_token', { token: request.token, tokenSecret: request.secret, oauth: [['oauth_verifier', 'wrong']] })
    t.equal(res.status, 401)
    t.match(await res.text(), 'Invalid oauth_verifier parameter')
    t.equal((await fetch(`${sim.twitterApiUrl}/oauth/authorize?oauth_token=${request.token}`)).status, 400, 'the token is gone')
  })

  t.test('the verifier may travel in the form body, which is then signed', async (t) => {
    const request = await xRequestToken(sim)
    const callback = await xAuthorize(sim, request.token, 'sim_big')
    const res = await xSigned(sim, 'POST', '/oauth/access_token', {
      token: request.token, tokenSecret: request.secret, form: [['oauth_verifier', callback.searchParams.get('oauth_verifier')!]]
    })
    t.equal(res.status, 200)
  })

  t.test('a wrong signature is 401 with code 32', async (t) => {
    const res = await xSigned(sim, 'POST', '/oauth/request_token', { oauth: [['oauth_callback', X_CALLBACK]], consumerSecret: `${X.consumerSecret}x` })
    t.equal(res.status, 401)
    t.same(await json(res), { errors: [{ code: 32, message: 'Could not authenticate you.' }] })
  })

  t.test('a stale timestamp is refused', async (t) => {
    const res = await xSigned(sim, 'POST', '/oauth/request_token', { oauth: [['oauth_callback', X_CALLBACK]], timestamp: Math.floor(Date.now() / 1000) - 3600 })
    t.equal(res.status, 401)
    t.same(await json(res), { errors: [{ code: 135, message: 'Timestamp out of bounds.' }] })
  })

  t.test('a reused nonce is refused', async (t) => {
    const used = nonce()
    const first = await xSigned(sim, 'POST', '/oauth/request_token', { oauth: [['oauth_callback', X_CALLBACK]], nonce: used })
    t.equal(first.status, 200)
    const replay = await xSigned(sim, 'POST', '/oauth/request_token', { oauth: [['oauth_callback', X_CALLBACK]], nonce: used })
    t.equal(replay.status, 401)
    t.same(await json(replay), { errors: [{ code: 32, message: 'Could not authenticate you.' }] })
  })

  t.test('query parameters are part of the signature', async (t) => {
    const access = await xLogin(sim, 'sim_mid')
    t.equal((await xGet(sim, '/2/users/me?user.fields=public_metrics', access)).status, 200, 'signed with its query: accepted')
    const header = signRequest({
      method: 'GET', url: `${sim.twitterApiUrl}/2/users/me`, consumerKey: X.consumerKey, consumerSecret: X.consumerSecret,
      token: access.token, tokenSecret: access.secret, nonce: nonce(), timestamp: Math.floor(Date.now() / 1000)
    })
    const res = await fetch(`${sim.twitterApiUrl}/2/users/me?user.fields=public_metrics`, { headers: { Authorization: header } })
    t.equal(res.status, 401, 'the same request signed without its query: refused')
  })

  t.test('invalidate_token answers the token; the token then fails everywhere with the real bodies', async (t) => {
    const access = await xLogin(sim, 'sim_new')
    const res = await xSigned(sim, 'POST', '/1.1/oauth/invalidate_token', { token: access.token, tokenSecret: access.secret })
    t.equal(res.status, 200)
    t.same(await json(res), { access_token: access.token })
    const me = await xGet(sim, '/2/users/me', access)
    t.equal(me.status, 401)
    t.match(me.headers.get('content-type'), /^application\/problem\+json/)
    t.same(await json(me), { title: 'Unauthorized', detail: 'Unauthorized', type: 'about:blank', status: 401 })
    const again = await xSigned(sim, 'POST', '/1.1/oauth/invalidate_token', { token: access.token, tokenSecret: access.secret })
    t.same(await json(again), { errors: [{ code: 89, message: 'Invalid or expired token.' }] })
  })

  t.test('re-authorizing returns the same access token until it is invalidated', async (t) => {
    const first = await xLogin(sim, 'sim_chatty')
    const second = await xLogin(sim, 'sim_chatty')
    t.equal(second.token, first.token)
  })
})
