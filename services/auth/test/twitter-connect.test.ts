import { ConnectionInvalidatedV1, ConnectionLinkedV1, ConnectionUnlinkedV1 } from '@pulse/contracts'
import { signRequest } from '@pulse/oauth1'
import { SIM_CREDENTIALS } from '@pulse/provider-sim'
import t from 'tap'
import { Browser, consent, me } from './browser.js'
import { TEST_PUBLIC_URL, build, callsTo, countRows, eventually, giveAPassword, outboxDrained, startSim } from './helper.js'

const sim = await startSim(t)
const PUBLIC = TEST_PUBLIC_URL
const REQUEST_TOKEN = 'POST /oauth/request_token'
const ACCESS_TOKEN = 'POST /oauth/access_token'
const CONSUMER = { consumerKey: SIM_CREDENTIALS.twitter.consumerKey, consumerSecret: SIM_CREDENTIALS.twitter.consumerSecret }

/** The callback URL X sends this browser to after `login` approves (not followed). */
async function callbackUrl (browser: Browser, login = 'sim_mid'): Promise<URL> {
  const start = await browser.request(`${PUBLIC}/auth/twitter/login`)
  const authorize = await browser.request(consent(login)(start.location!))
  if (!authorize.location!.pathname.endsWith('/auth/twitter/callback')) throw new Error(`unexpected redirect ${authorize.location}`)
  return authorize.location!
}

/** Calls X's API v2 as the user, the way twitter-ingest will. */
async function usersMe (token: string, tokenSecret: string): Promise<Response> {
  const url = `${sim.twitterApiUrl}/2/users/me?user.fields=public_metrics,created_at`
  return await fetch(url, { headers: { authorization: signRequest({ method: 'GET', url, ...CONSUMER, token, tokenSecret }) } })
}

t.test('signing in with X when logged out: request token, authenticate, access token; a user, a session, the connection', async (t) => {
  const auth = await build(t, {}, { sim })
  const browser = new Browser(auth)
  const [requestTokens, accessTokens] = [callsTo(sim, REQUEST_TOKEN), callsTo(sim, ACCESS_TOKEN)]
  const { final, visits } = await browser.navigate(`${PUBLIC}/auth/twitter/login?returnTo=/dashboard`, consent('sim_mid'))
  t.equal(final.toString(), `${PUBLIC}/dashboard`)
  t.same(visits.map((v) => `${v.status} ${v.url.pathname}`), ['302 /auth/twitter/login', '302 /oauth/authenticate', '302 /auth/twitter/callback'])
  t.equal(callsTo(sim, REQUEST_TOKEN), requestTokens + 1)
  t.equal(callsTo(sim, ACCESS_TOKEN), accessTokens + 1)
  t.ok(browser.cookie('pulse_session') !== undefined, 'signed in')
  t.equal(browser.cookie('pulse_oauth_twitter'), undefined, 'the attempt cookie is cleared')

  const expected = sim.control.expectedTwitter('sim_mid')
  const { status, user } = await me(browser)
  t.equal(status, 200)
  t.equal(user.username, 'sim_mid')
  t.match(user.connections, [{ provider: 'twitter', providerUserId: expected.userId, providerLogin: 'sim_mid', status: 'active' }])
  t.ok(await eventually(async () => (await auth.events(ConnectionLinkedV1.subject)).length === 1))
  t.match((await auth.events(ConnectionLinkedV1.subject))[0], { userId: user.id, provider: 'twitter', providerUserId: expected.userId, providerLogin: 'sim_mid' })

  const reply = await auth.inner.tokens.handle({ userId: user.id, provider: 'twitter' })
  t.match(reply, { ok: true, provider: 'twitter', providerUserId: expected.userId, providerLogin: 'sim_mid', expiresAt: null, scopes: [] })
  if (!reply.ok) return
  t.type(reply.tokenSecret, 'string', 'the token secret comes with the token')
  const profile = await usersMe(reply.accessToken, reply.tokenSecret!)
  t.equal(profile.status, 200, 'the token and secret sign requests X accepts')
  t.equal(((await profile.json()) as { data: { username: string } }).data.username, 'sim_mid')

  const row = await auth.db.selectFrom('connections').selectAll().executeTakeFirstOrThrow()
  t.match(row.token_secret, /^v1\./, 'the token secret is encrypted too')
  t.notOk(JSON.stringify(row).includes(reply.accessToken) || JSON.stringify(row).includes(reply.tokenSecret!), 'no plaintext in the row')
})

t.test('a logged-in user links X next to Twitch; an X account linked elsewhere is refused and keeps working', async (t) => {
  const auth = await build(t, {}, { sim })
  const browser = new Browser(auth)
  await browser.navigate(`${PUBLIC}/auth/twitch/login`, consent('sim_big'))
  const { final } = await browser.navigate(`${PUBLIC}/auth/twitter/login?returnTo=/settings`, consent('sim_big'))
  t.equal(final.toString(), `${PUBLIC}/settings`)
  const { user } = await me(browser)
  t.same(user.connections.map((c) => `${c.provider}:${c.providerLogin}`), ['twitch:sim_big', 'twitter:sim_big'])
  t.equal(await countRows(auth, 'users'), 1)

  const owner = await auth.inner.tokens.handle({ userId: user.id, provider: 'twitter' })
  const other = new Browser(auth, '198.51.100.88')
  await other.request(`${PUBLIC}/auth/register`, { method: 'POST', json: { username: 'someone', password: 'a long enough password' } })
  const refused = await other.navigate(`${PUBLIC}/auth/twitter/login`, consent('sim_big'))
  t.equal(refused.final.searchParams.get('error'), 'already_linked')
  t.same((await me(other)).user.connections, [])
  t.equal(await countRows(auth, 'connections'), 2, 'nothing changed')
  if (owner.ok) t.equal((await usersMe(owner.accessToken, owner.tokenSecret!)).status, 200, 'the owner\'s token still works')
})

t.test('bad callbacks: a token not issued to this browser, a replay, no verifier, a denial — an error, no session, no access_token call', async (t) => {
  const auth = await build(t, {}, { sim })
  const expectRefused = async (browser: Browser, url: URL, error: string, message: string) => {
    const [accessTokens, users] = [callsTo(sim, ACCESS_TOKEN), await countRows(auth, 'users')]
    const res = await browser.request(url)
    t.equal(res.location?.searchParams.get('error'), error, message)
    t.equal(browser.cookie('pulse_session'), undefined, `${message}: no session`)
    t.equal(callsTo(sim, ACCESS_TOKEN), accessTokens, `${message}: no access_token call`)
    t.equal(await countRows(auth, 'users'), users, `${message}: no user`)
  }

  const victim = new Browser(auth, '198.51.100.81')
  const victimCallback = await callbackUrl(victim, 'sim_new')
  const attacker = new Browser(auth, '198.51.100.82')
  await attacker.request(`${PUBLIC}/auth/twitter/login`)
  await expectRefused(attacker, victimCallback, 'invalid_state', 'another browser\'s request token')
  await expectRefused(new Browser(auth, '198.51.100.83'), victimCallback, 'invalid_state', 'no attempt at all')

  const replayer = new Browser(auth, '198.51.100.84')
  const ownCallback = await callbackUrl(replayer, 'sim_new')
  const withoutVerifier = new URL(ownCallback)
  withoutVerifier.searchParams.delete('oauth_verifier')
  await expectRefused(replayer, withoutVerifier, 'invalid_state', 'missing verifier')
  await expectRefused(replayer, ownCallback, 'invalid_state', 'the attempt is spent after a failure too')

  const ok = await victim.request(victimCallback)
  t.equal(ok.location?.searchParams.get('error'), null, 'the victim completes their own attempt')
  victim.forget('pulse_session')
  await expectRefused(victim, victimCallback, 'invalid_state', 'replayed')

  const denier = new Browser(auth, '198.51.100.85')
  const denied = await denier.navigate(`${PUBLIC}/auth/twitter/login?returnTo=/welcome`, consent('sim_mid', 'deny'))
  t.equal(denied.final.toString(), `${PUBLIC}/welcome?error=twitter_denied`)
  t.equal(denier.cookie('pulse_session'), undefined)
})

t.test('X unreachable at login: back to the front end with provider_unavailable, no attempt left behind', async (t) => {
  const auth = await build(t, {}, { sim })
  sim.control.failNext(REQUEST_TOKEN, 1, 503)
  const browser = new Browser(auth)
  const res = await browser.request(`${PUBLIC}/auth/twitter/login?returnTo=/x`)
  t.equal(res.status, 302)
  t.equal(res.location?.toString(), `${PUBLIC}/x?error=provider_unavailable`)
  t.equal(browser.cookie('pulse_oauth_twitter'), undefined)
  t.same(await auth.redis.keys(`${auth.config.REDIS_PREFIX}oauth-attempt:*`), [])
})

t.test('a token X rejected (rejectedAccessToken) marks the connection invalid once; a stale rejection gets the current token', async (t) => {
  const auth = await build(t, {}, { sim })
  const browser = new Browser(auth)
  await browser.navigate(`${PUBLIC}/auth/twitter/login`, consent('sim_chatty'))
  const { user } = await me(browser)
  const reply = await auth.inner.tokens.handle({ userId: user.id, provider: 'twitter' })
  if (!reply.ok) throw new Error('no token')
  t.match(await auth.inner.tokens.handle({ userId: user.id, provider: 'twitter', rejectedAccessToken: 'an-older-token' }), { ok: true, accessToken: reply.accessToken })
  sim.control.revokeGrant('twitter', 'sim_chatty')
  t.equal((await usersMe(reply.accessToken, reply.tokenSecret!)).status, 401, 'X refuses it now')
  t.match(await auth.inner.tokens.handle({ userId: user.id, provider: 'twitter', rejectedAccessToken: reply.accessToken }), { ok: false, error: 'invalid_grant' })
  t.match((await me(browser)).user.connections, [{ provider: 'twitter', status: 'invalid' }])
  t.ok(await eventually(async () => (await auth.events(ConnectionInvalidatedV1.subject)).length === 1))
  t.match((await auth.events(ConnectionInvalidatedV1.subject))[0], { userId: user.id, provider: 'twitter', reason: 'rejected_by_provider' })

  // Connecting again revives the connection with the new token.
  await browser.navigate(`${PUBLIC}/auth/twitter/login`, consent('sim_chatty'))
  t.match((await me(browser)).user.connections, [{ provider: 'twitter', status: 'active' }])
  const revived = await auth.inner.tokens.handle({ userId: user.id, provider: 'twitter' })
  t.ok(revived.ok && revived.accessToken !== reply.accessToken, 'a new token')
  t.ok(await eventually(async () => (await auth.events(ConnectionLinkedV1.subject)).length === 2), 'the revived connection is announced again')
})

t.test('unlinking X invalidates the token at X, deletes the connection and announces it once', async (t) => {
  const auth = await build(t, {}, { sim })
  const browser = new Browser(auth)
  await browser.navigate(`${PUBLIC}/auth/twitter/login`, consent('sim_mid'))
  const { user } = await me(browser)
  await giveAPassword(auth, user.id)
  const reply = await auth.inner.tokens.handle({ userId: user.id, provider: 'twitter' })
  if (!reply.ok) throw new Error('no token')
  const invalidations = callsTo(sim, 'POST /1.1/oauth/invalidate_token')
  const res = await browser.request(`${PUBLIC}/auth/connections/twitter`, { method: 'DELETE' })
  t.equal(res.status, 204)
  t.equal(callsTo(sim, 'POST /1.1/oauth/invalidate_token'), invalidations + 1)
  t.equal((await usersMe(reply.accessToken, reply.tokenSecret!)).status, 401, 'the token no longer works at X')
  t.equal(await countRows(auth, 'connections'), 0)
  t.ok(await eventually(async () => (await auth.events(ConnectionUnlinkedV1.subject)).length === 1))
  t.ok(await outboxDrained(auth), 'every event written so far is published')
  t.equal((await auth.events(ConnectionUnlinkedV1.subject)).length, 1, 'once')
  t.match((await auth.events(ConnectionUnlinkedV1.subject))[0], { userId: user.id, provider: 'twitter', providerUserId: sim.control.expectedTwitter('sim_mid').userId })
})
