import { createHash } from 'node:crypto'
import { ConnectionLinkedV1 } from '@pulse/contracts'
import t from 'tap'
import { Browser, consent, me, registerWithPassword, twitchCallbackUrl } from './browser.js'
import { TEST_PUBLIC_URL, build, callsTo, countRows, eventually, outboxDrained, startSim } from './helper.js'

const sim = await startSim(t)
const PUBLIC = TEST_PUBLIC_URL
const TOKEN = 'POST /oauth2/token'

const callbackUrl = twitchCallbackUrl

t.test('signing in with Twitch when logged out creates the user, starts a session and shows the connection', async (t) => {
  const auth = await build(t, {}, { sim })
  const browser = new Browser(auth)
  const tokenCalls = callsTo(sim, TOKEN)
  const { final, visits } = await browser.navigate(`${PUBLIC}/auth/twitch/login?returnTo=/dashboard`, consent('sim_mid'))
  t.equal(final.toString(), `${PUBLIC}/dashboard`, 'lands on returnTo')
  t.same(visits.map((v) => `${v.status} ${v.url.pathname}`), ['302 /auth/twitch/login', '302 /oauth2/authorize', '302 /auth/twitch/callback'])
  t.equal(callsTo(sim, TOKEN), tokenCalls + 1, 'one code exchange')
  t.ok(browser.cookie('pulse_session') !== undefined, 'the session cookie is set')
  t.equal(browser.cookie('pulse_oauth_twitch'), undefined, 'the attempt cookie is cleared')

  const expected = sim.control.expectedTwitch('sim_mid')
  const { status, user } = await me(browser)
  t.equal(status, 200, 'logged in')
  t.match(user, { username: 'sim_mid', displayName: expected.displayName, role: 'user' })
  t.equal(user.connections.length, 1)
  t.match(user.connections[0], { provider: 'twitch', providerUserId: expected.userId, providerLogin: 'sim_mid', status: 'active' })
  t.ok(!Number.isNaN(Date.parse(user.connections[0]!.connectedAt)))
  const row = await auth.db.selectFrom('users').select('password_hash').where('id', '=', user.id).executeTakeFirstOrThrow()
  t.equal(row.password_hash, null, 'no password')

  t.ok(await eventually(async () => (await auth.events(ConnectionLinkedV1.subject)).length === 1), 'linked event published')
  t.match((await auth.events(ConnectionLinkedV1.subject))[0], { userId: user.id, provider: 'twitch', providerUserId: expected.userId, providerLogin: 'sim_mid' })

  // Signing in again (another browser, logged out) finds the same user, with a session of its own.
  const elsewhere = new Browser(auth, '198.51.100.21')
  const again = await elsewhere.navigate(`${PUBLIC}/auth/twitch/login`, consent('sim_mid'))
  t.equal(again.final.toString(), `${PUBLIC}/`, 'lands on the front end without returnTo')
  t.not(elsewhere.cookie('pulse_session')!.value, browser.cookie('pulse_session')!.value, 'a session of its own')
  t.equal((await me(elsewhere)).user.id, user.id, 'the same user')
  t.equal(await countRows(auth, 'users'), 1)
  t.equal(await countRows(auth, 'connections'), 1)
})

t.test('a Twitch login that is taken as a username gets a unique one', async (t) => {
  const auth = await build(t, {}, { sim })
  await registerWithPassword(new Browser(auth, '198.51.100.30'), 'sim_big')
  const browser = new Browser(auth)
  await browser.navigate(`${PUBLIC}/auth/twitch/login`, consent('sim_big'))
  const { user } = await me(browser)
  t.equal(user.username, 'sim_big_2')
  t.equal(user.connections[0]!.providerLogin, 'sim_big')
})

t.test('a logged-in user links Twitch to their account; no new user, the session stays', async (t) => {
  const auth = await build(t, {}, { sim })
  const browser = new Browser(auth)
  const userId = await registerWithPassword(browser, 'linker')
  const session = browser.cookie('pulse_session')!.value
  const { final } = await browser.navigate(`${PUBLIC}/auth/twitch/login?returnTo=/settings`, consent('sim_big'))
  t.equal(final.toString(), `${PUBLIC}/settings`)
  t.equal(browser.cookie('pulse_session')!.value, session, 'same session')
  const { user } = await me(browser)
  t.equal(user.id, userId)
  t.match(user.connections, [{ provider: 'twitch', providerLogin: 'sim_big', providerUserId: sim.control.expectedTwitch('sim_big').userId, status: 'active' }])
  t.equal(await countRows(auth, 'users'), 1)
  t.ok(await eventually(async () => (await auth.events(ConnectionLinkedV1.subject)).length === 1))
  t.match((await auth.events(ConnectionLinkedV1.subject))[0], { userId, provider: 'twitch', providerLogin: 'sim_big' })
})

t.test('a Twitch account linked to another user is refused with already_linked and nothing changes', async (t) => {
  const auth = await build(t, {}, { sim })
  const owner = new Browser(auth, '198.51.100.41')
  await owner.navigate(`${PUBLIC}/auth/twitch/login`, consent('sim_new'))
  const before = await auth.db.selectFrom('connections').selectAll().executeTakeFirstOrThrow()
  t.ok(await eventually(async () => (await auth.events(ConnectionLinkedV1.subject)).length === 1))

  const other = new Browser(auth, '198.51.100.42')
  const otherId = await registerWithPassword(other, 'intruder')
  const revokes = callsTo(sim, 'POST /oauth2/revoke')
  const { final } = await other.navigate(`${PUBLIC}/auth/twitch/login?returnTo=/settings`, consent('sim_new'))
  t.equal(final.toString(), `${PUBLIC}/settings?error=already_linked`)
  t.same((await me(other)).user.connections, [], 'the other user has no connection')
  t.equal((await me(other)).user.id, otherId, 'still logged in as themselves')
  const after = await auth.db.selectFrom('connections').selectAll().execute()
  t.same(after, [before], 'the owner\'s connection and tokens are untouched')
  t.equal(callsTo(sim, 'POST /oauth2/revoke'), revokes + 1, 'the grant made by the refused consent is revoked at Twitch')
  t.ok(await outboxDrained(auth), 'every event written so far is published')
  t.equal((await auth.events(ConnectionLinkedV1.subject)).length, 1, 'no new linked event')
})

t.test('a user with a Twitch account connected cannot link a second one (already_connected)', async (t) => {
  const auth = await build(t, {}, { sim })
  const browser = new Browser(auth)
  await browser.navigate(`${PUBLIC}/auth/twitch/login`, consent('sim_mid'))
  const { final } = await browser.navigate(`${PUBLIC}/auth/twitch/login`, consent('sim_big'))
  t.equal(final.searchParams.get('error'), 'already_connected')
  t.match((await me(browser)).user.connections, [{ providerLogin: 'sim_mid' }])
  t.equal(await countRows(auth, 'connections'), 1)
})

t.test('state matrix: every bad callback redirects with an error, creates no session and exchanges no code', async (t) => {
  const auth = await build(t, {}, { sim })

  const expectRefused = async (t: Pick<typeof import('tap').t, 'equal'>, browser: Browser, url: URL | string, error: string) => {
    const tokenCalls = callsTo(sim, TOKEN)
    const users = await countRows(auth, 'users')
    const res = await browser.request(url)
    t.equal(res.status, 302)
    t.equal(res.location?.origin, PUBLIC, 'back to the front end')
    t.equal(res.location?.searchParams.get('error'), error)
    t.equal(browser.cookie('pulse_session'), undefined, 'no session cookie')
    t.equal(callsTo(sim, TOKEN), tokenCalls, 'no call to the token endpoint')
    t.equal(await countRows(auth, 'users'), users, 'no user created')
  }

  t.test('missing state', async (t) => {
    const browser = new Browser(auth)
    const callback = await callbackUrl(browser)
    callback.searchParams.delete('state')
    await expectRefused(t, browser, callback, 'invalid_state')
  })

  t.test('wrong state', async (t) => {
    const browser = new Browser(auth)
    const callback = await callbackUrl(browser)
    callback.searchParams.set('state', 'not-the-state-we-issued')
    await expectRefused(t, browser, callback, 'invalid_state')
  })

  t.test('no attempt cookie at all', async (t) => {
    const browser = new Browser(auth)
    const callback = await callbackUrl(browser)
    browser.forget('pulse_oauth_twitch')
    await expectRefused(t, browser, callback, 'invalid_state')
  })

  t.test('replayed: the same callback URL twice, even with the old cookie put back', async (t) => {
    const browser = new Browser(auth)
    const callback = await callbackUrl(browser)
    const attemptCookie = browser.cookie('pulse_oauth_twitch')!.value
    const first = await browser.request(callback)
    t.equal(first.location?.searchParams.get('error'), null, 'the first use signs in')
    browser.forget('pulse_session')
    await expectRefused(t, browser, callback, 'invalid_state')
    browser.setCookie('pulse_oauth_twitch', attemptCookie)
    await expectRefused(t, browser, callback, 'invalid_state')
  })

  t.test('foreign: a state from another browser\'s attempt', async (t) => {
    const victim = new Browser(auth, '198.51.100.51')
    const victimCallback = await callbackUrl(victim, 'sim_new')
    const attacker = new Browser(auth, '198.51.100.52')
    await attacker.request(`${PUBLIC}/auth/twitch/login`) // an attempt of its own, with its own cookie
    await expectRefused(t, attacker, victimCallback, 'invalid_state')
    const stranger = new Browser(auth, '198.51.100.53') // no attempt at all
    await expectRefused(t, stranger, victimCallback, 'invalid_state')
    const own = await victim.request(victimCallback)
    t.equal(own.location?.searchParams.get('error'), null, 'the victim\'s own attempt still completes')
    t.ok(victim.cookie('pulse_session') !== undefined)
  })

  t.test('the user denies access at Twitch', async (t) => {
    const browser = new Browser(auth)
    const tokenCalls = callsTo(sim, TOKEN)
    const { final } = await browser.navigate(`${PUBLIC}/auth/twitch/login?returnTo=/welcome`, consent('sim_mid', 'deny'))
    t.equal(final.toString(), `${PUBLIC}/welcome?error=twitch_denied`)
    t.equal(browser.cookie('pulse_session'), undefined)
    t.equal(callsTo(sim, TOKEN), tokenCalls)
  })

  t.test('an unexchangeable code: one refused exchange, no session', async (t) => {
    const browser = new Browser(auth)
    const callback = await callbackUrl(browser)
    callback.searchParams.set('code', 'not-a-code-twitch-issued')
    const tokenCalls = callsTo(sim, TOKEN)
    const users = await countRows(auth, 'users')
    const res = await browser.request(callback)
    t.equal(res.location?.searchParams.get('error'), 'exchange_failed')
    t.equal(callsTo(sim, TOKEN), tokenCalls + 1, 'the exchange was tried once and refused')
    t.equal(browser.cookie('pulse_session'), undefined)
    t.equal(await countRows(auth, 'users'), users)
  })
})

t.test('returnTo keeps same-origin paths and ignores everything else', async (t) => {
  const auth = await build(t, {}, { sim })
  const cases: [string, string][] = [
    ['/settings/connections?tab=twitch', `${PUBLIC}/settings/connections?tab=twitch`],
    ['//evil.example', `${PUBLIC}/`],
    ['/\\evil.example', `${PUBLIC}/`],
    ['https://evil.example/x', `${PUBLIC}/`],
    ['/\t/evil.example', `${PUBLIC}/`],
    ['evil.example', `${PUBLIC}/`],
    ['javascript:alert(1)', `${PUBLIC}/`]
  ]
  for (const [returnTo, expected] of cases) {
    const browser = new Browser(auth)
    const { final } = await browser.navigate(`${PUBLIC}/auth/twitch/login?returnTo=${encodeURIComponent(returnTo)}`, consent('sim_mid'))
    t.equal(final.toString(), expected, JSON.stringify(returnTo))
    const denied = await new Browser(auth).navigate(`${PUBLIC}/auth/twitch/login?returnTo=${encodeURIComponent(returnTo)}`, consent('sim_mid', 'deny'))
    t.equal(denied.final.origin, PUBLIC, `${JSON.stringify(returnTo)}: errors go to the front end too`)
  }
})

t.test('the authorize redirect: callback built from PUBLIC_URL whatever the Host, the configured scopes, PKCE, short-lived HttpOnly cookies', async (t) => {
  const auth = await build(t, {}, { sim })
  const res = await auth.app.inject({
    url: '/auth/twitch/login',
    headers: { ...auth.from('198.51.100.60'), host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }
  })
  t.equal(res.statusCode, 302)
  const location = new URL(res.headers.location as string)
  t.equal(`${location.origin}${location.pathname}`, `${sim.twitchAuthUrl}/authorize`)
  t.equal(location.searchParams.get('redirect_uri'), `${PUBLIC}/auth/twitch/callback`)
  t.equal(location.searchParams.get('client_id'), auth.config.TWITCH_CLIENT_ID)
  t.equal(location.searchParams.get('response_type'), 'code')
  t.equal(location.searchParams.get('scope'), 'moderator:read:followers channel:read:subscriptions user:read:follows bits:read')
  const state = location.searchParams.get('state')!
  t.match(state, /^[A-Za-z0-9_-]{43}$/)
  t.equal(location.searchParams.get('code_challenge_method'), 'S256')
  const setCookies = [res.headers['set-cookie'] ?? []].flat()
  const named = (name: string) => setCookies.find((c) => c.startsWith(`${name}=`)) ?? ''
  // The attempt cookie is the browser's secret (the PKCE verifier); the state cookie only repeats the state.
  const cookie = named('pulse_oauth_twitch')
  const verifier = /^pulse_oauth_twitch=([^;]*)/.exec(cookie)?.[1] ?? ''
  t.match(verifier, /^[A-Za-z0-9_-]{43}$/)
  t.equal(location.searchParams.get('code_challenge'), createHash('sha256').update(verifier).digest('base64url'), 'the challenge is the verifier\'s S256')
  t.notOk(location.toString().includes(verifier), 'the verifier never travels in the URL')
  t.notOk(cookie.includes(state), 'the attempt cookie is not the state itself')
  t.equal(named('pulse_oauth_twitch_state').split(';')[0], `pulse_oauth_twitch_state=${state}`)
  for (const c of [cookie, named('pulse_oauth_twitch_state')]) {
    t.match(c, /HttpOnly/)
    t.match(c, /SameSite=Lax/)
    t.match(c, /Max-Age=600/)
    t.match(c, /Path=\//)
    t.notMatch(c, /Secure/, 'not Secure when PUBLIC_URL is http')
  }
  t.same(JSON.parse((await auth.redis.get(`oauth-attempt:twitch:${state}`))!), { mode: 'sign-in', userId: null, challenge: location.searchParams.get('code_challenge') }, 'the attempt is kept under its state')

  const https = await build(t, { PUBLIC_URL: 'https://pulse.example', FRONTEND_URL: 'https://pulse.example' }, { sim })
  const secure = await https.app.inject({ url: '/auth/twitch/login', headers: { ...https.from('198.51.100.61'), 'x-forwarded-proto': 'https' } })
  const secureCookies = [secure.headers['set-cookie'] ?? []].flat()
  for (const name of ['__Host-pulse_oauth_twitch', '__Host-pulse_oauth_twitch_state']) {
    const secureCookie = secureCookies.find((c) => c.startsWith(`${name}=`)) ?? ''
    t.match(secureCookie, /; Secure/, name)
    t.match(secureCookie, /Path=\//, name)
  }
  t.equal(new URL(secure.headers.location as string).searchParams.get('redirect_uri'), 'https://pulse.example/auth/twitch/callback')
})
