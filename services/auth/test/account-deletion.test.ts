import { signRequest } from '@pulse/oauth1'
import { SIMULATOR_CREDENTIALS as SIM_CREDENTIALS, UserDeletedV1 } from '@pulse/contracts'
import { sessionKey, userSessionsKey } from '@pulse/service-kit'
import { rowsMentioning } from '@pulse/testing'
import t from 'tap'
import { Browser, consent, me, signIn } from './browser.js'
import { TEST_PUBLIC_URL, build, callsTo, eventually, sessionExists, startSim, storedTokens, type TestAuth } from './helper.js'

const sim = await startSim(t)
const PUBLIC = TEST_PUBLIC_URL
const PASSWORD = 'a long enough password'

const validateTwitch = (token: string) => fetch(`${sim.twitchAuthUrl}/validate`, { headers: { authorization: `OAuth ${token}` } })
async function xUsersMe (token: string, tokenSecret: string): Promise<Response> {
  const url = `${sim.twitterApiUrl}/2/users/me`
  const consumer = { consumerKey: SIM_CREDENTIALS.twitter.consumerKey, consumerSecret: SIM_CREDENTIALS.twitter.consumerSecret }
  return await fetch(url, { headers: { authorization: signRequest({ method: 'GET', url, ...consumer, token, tokenSecret }) } })
}

/** A registered user with a second session, Twitch and X connected. */
async function userWithEverything (auth: TestAuth, login: string) {
  const browser = new Browser(auth)
  const registered = await browser.request(`${PUBLIC}/auth/register`, { method: 'POST', json: { username: `u_${login}`, password: PASSWORD } })
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}`)
  await browser.navigate(`${PUBLIC}/auth/twitch/login`, consent(login))
  await browser.navigate(`${PUBLIC}/auth/twitter/login`, consent(login))
  const { user } = await me(browser)
  if (user.connections.length !== 2) throw new Error(`expected two connections, got ${JSON.stringify(user.connections)}`)
  const other = new Browser(auth, '198.51.100.20')
  const login2 = await other.request(`${PUBLIC}/auth/login`, { method: 'POST', json: { username: `u_${login}`, password: PASSWORD } })
  if (login2.status !== 200) throw new Error(`login answered ${login2.status}`)
  const twitch = (await storedTokens(auth, user.id, 'twitch')).tokens
  const x = (await storedTokens(auth, user.id, 'twitter')).tokens
  return { browser, other, userId: user.id, twitch, x }
}

t.test('deleting an account with a password: refused without the right one; then grants revoked, rows gone, sessions ended, outbox purged', async (t) => {
  const auth = await build(t, {}, { sim })
  const { browser, other, userId, twitch, x } = await userWithEverything(auth, 'sim_mid')
  const bystander = await userWithEverything(auth, 'sim_big')

  const missing = await browser.request(`${PUBLIC}/auth/me`, { method: 'DELETE', json: {} })
  t.equal(missing.status, 400)
  t.match(JSON.parse(missing.body), { code: 'AUTH_PASSWORD_REQUIRED', message: /body\/password/ })
  const wrong = await browser.request(`${PUBLIC}/auth/me`, { method: 'DELETE', json: { password: 'not the password' } })
  t.equal(wrong.status, 403)
  t.equal(JSON.parse(wrong.body).code, 'AUTH_WRONG_PASSWORD')
  const extra = await browser.request(`${PUBLIC}/auth/me`, { method: 'DELETE', json: { password: PASSWORD, force: true } })
  t.equal(extra.status, 400, 'unknown properties are refused')
  t.equal((await me(browser)).status, 200, 'still there after the refusals')
  t.equal((await validateTwitch(twitch.accessToken)).status, 200)

  const revokes = callsTo(sim, 'POST /oauth2/revoke')
  const res = await browser.request(`${PUBLIC}/auth/me`, { method: 'DELETE', json: { password: PASSWORD } })
  t.equal(res.status, 204)
  t.ok(callsTo(sim, 'POST /oauth2/revoke') > revokes, 'revoked at Twitch')
  t.equal((await validateTwitch(twitch.accessToken)).status, 401, 'the Twitch token no longer validates')
  t.equal((await xUsersMe(x.accessToken, x.tokenSecret!)).status, 401, 'the X token no longer works')
  t.equal((await me(browser)).status, 401, 'this session has ended')
  t.equal((await me(other)).status, 401, 'the other session has ended too')
  t.equal(await auth.redis.exists(userSessionsKey(userId)), 0)
  t.equal(browser.cookie('pulse_session'), undefined, 'the cookie is expired')

  t.ok(await eventually(async () => (await auth.events(UserDeletedV1.subject)).length === 1), 'the deletion is announced')
  t.match((await auth.events(UserDeletedV1.subject))[0], { userId, deletedAt: String })
  // Once relayed, the outbox rows that named the user (links, the deletion itself) are gone too.
  t.ok(await eventually(async () => Object.keys(await rowsMentioning(auth.db, 'auth', userId)).length === 0), 'no row of any auth table mentions the user')
  t.same(await rowsMentioning(auth.db, 'auth', userId), {})
  t.equal((await me(bystander.browser)).status, 200, 'another user is untouched')
  t.equal((await validateTwitch(bystander.twitch.accessToken)).status, 200)
  t.ok(Object.keys(await rowsMentioning(auth.db, 'auth', bystander.userId)).length > 0)
})

t.test('an account without a password is deleted only from a fresh provider sign-in', async (t) => {
  const auth = await build(t, { ACCOUNT_DELETE_REAUTH_S: '60' }, { sim })
  const { browser, userId } = await signIn(auth, 'twitch', 'sim_new')
  // The session was started by a sign-in longer ago than the setting allows.
  const id = decodeURIComponent(browser.cookie('pulse_session')!.value).split('.')[0]!
  const record = JSON.parse((await auth.redis.get(sessionKey(id)))!) as { createdAt: number }
  await auth.redis.set(sessionKey(id), JSON.stringify({ ...record, createdAt: Date.now() - 61_000 }), 'KEEPTTL')
  const stale = await browser.request(`${PUBLIC}/auth/me`, { method: 'DELETE', json: {} })
  t.equal(stale.status, 403)
  t.match(JSON.parse(stale.body), { code: 'AUTH_REAUTHENTICATION_REQUIRED', message: /Sign in with Twitch again/ })
  t.equal((await me(browser)).status, 200)

  const fresh = await signIn(auth, 'twitch', 'sim_new', '198.51.100.30')
  t.equal(fresh.userId, userId, 'the same account')
  t.equal((await fresh.browser.request(`${PUBLIC}/auth/me`, { method: 'DELETE', json: {} })).status, 204)
  t.notOk(await sessionExists(auth.redis, id), 'the older session has ended too')
  t.equal(await auth.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst(), undefined)
})

t.test('a provider that cannot be reached at deletion: 503 and nothing is deleted', async (t) => {
  const auth = await build(t, {}, { sim })
  const { browser, userId } = await userWithEverything(auth, 'sim_chatty')
  sim.control.failNext('POST /oauth2/revoke', 1, 503)
  const res = await browser.request(`${PUBLIC}/auth/me`, { method: 'DELETE', json: { password: PASSWORD } })
  t.equal(res.status, 503)
  t.equal(JSON.parse(res.body).code, 'AUTH_PROVIDER_UNAVAILABLE')
  t.equal((await me(browser)).status, 200, 'still logged in')
  t.equal((await auth.db.selectFrom('connections').selectAll().where('user_id', '=', userId).execute()).length, 2)
  t.equal(await auth.db.selectFrom('leases').selectAll().executeTakeFirst(), undefined, 'no lease is left behind')
})

t.test('deleting needs a login', async (t) => {
  const auth = await build(t, {}, { sim })
  const res = await new Browser(auth).request(`${PUBLIC}/auth/me`, { method: 'DELETE', json: { password: PASSWORD } })
  t.equal(res.status, 401)
})
