import { ConnectionUnlinkedV1 } from '@pulse/contracts'
import t from 'tap'
import { Browser, signIn } from './browser.js'
import { TEST_PUBLIC_URL, build, callsTo, eventually, giveAPassword, outboxDrained, startSim, storedTokens, type TestAuth } from './helper.js'

const sim = await startSim(t)
const PUBLIC = TEST_PUBLIC_URL

async function connectedBrowser (auth: TestAuth, login: string) {
  const { browser, userId } = await signIn(auth, 'twitch', login)
  await giveAPassword(auth, userId)
  const { row } = await storedTokens(auth, userId)
  const reply = await auth.inner.tokens.handle({ userId: row.user_id, provider: 'twitch' })
  if (!reply.ok) throw new Error('no token')
  return { browser, row, accessToken: reply.accessToken }
}

const validate = (token: string) => fetch(`${sim.twitchAuthUrl}/validate`, { headers: { authorization: `OAuth ${token}` } })

t.test('unlinking Twitch revokes the grant at Twitch, deletes the connection and announces it once', async (t) => {
  const auth = await build(t, {}, { sim })
  const { browser, row, accessToken } = await connectedBrowser(auth, 'sim_mid')
  t.equal((await validate(accessToken)).status, 200, 'valid before')
  const revokes = callsTo(sim, 'POST /oauth2/revoke')

  const res = await browser.request(`${PUBLIC}/auth/connections/twitch`, { method: 'DELETE' })
  t.equal(res.status, 204)
  t.equal(res.body, '')
  t.equal(callsTo(sim, 'POST /oauth2/revoke'), revokes + 1, 'revoked at Twitch')
  t.equal((await validate(accessToken)).status, 401, 'the token no longer validates')
  t.equal(await auth.db.selectFrom('connections').selectAll().executeTakeFirst(), undefined, 'the row and its tokens are gone')
  t.same(JSON.parse((await browser.request(`${PUBLIC}/auth/me`)).body).user.connections, [])
  t.match(await auth.inner.tokens.handle({ userId: row.user_id, provider: 'twitch' }), { ok: false, error: 'not_connected' })

  t.ok(await eventually(async () => (await auth.events(ConnectionUnlinkedV1.subject)).length === 1), 'unlinked event published')
  t.ok(await outboxDrained(auth), 'every event written so far is published')
  const events = await auth.events(ConnectionUnlinkedV1.subject)
  t.equal(events.length, 1, 'published once')
  t.match(events[0], { userId: row.user_id, provider: 'twitch', providerUserId: row.provider_user_id })

  const again = await browser.request(`${PUBLIC}/auth/connections/twitch`, { method: 'DELETE' })
  t.equal(again.status, 404)
  t.equal(JSON.parse(again.body).code, 'AUTH_NOT_CONNECTED')
})

t.test('unlink: not connected is 404, unknown provider 400, anonymous 401', async (t) => {
  const auth = await build(t, {}, { sim })
  const browser = new Browser(auth)
  await browser.request(`${PUBLIC}/auth/register`, { method: 'POST', json: { username: 'plain', password: 'a long enough password' } })
  const twitter = await browser.request(`${PUBLIC}/auth/connections/twitter`, { method: 'DELETE' })
  t.equal(twitter.status, 404)
  t.equal(JSON.parse(twitter.body).code, 'AUTH_NOT_CONNECTED')
  const unknown = await browser.request(`${PUBLIC}/auth/connections/myspace`, { method: 'DELETE' })
  t.equal(unknown.status, 400)
  t.match(JSON.parse(unknown.body).message, /params\/provider/)
  t.equal((await new Browser(auth).request(`${PUBLIC}/auth/connections/twitch`, { method: 'DELETE' })).status, 401)
})

t.test('another user\'s connection is not touched by my unlink', async (t) => {
  const auth = await build(t, {}, { sim })
  await connectedBrowser(auth, 'sim_big')
  const other = new Browser(auth, '198.51.100.77')
  await other.request(`${PUBLIC}/auth/register`, { method: 'POST', json: { username: 'other', password: 'a long enough password' } })
  t.equal((await other.request(`${PUBLIC}/auth/connections/twitch`, { method: 'DELETE' })).status, 404)
  t.equal((await auth.db.selectFrom('connections').selectAll().execute()).length, 1)
})

t.test('Twitch unreachable at unlink: 503 and nothing changes; an already expired access token still ends the grant', async (t) => {
  const auth = await build(t, {}, { sim })
  const { browser, row, accessToken } = await connectedBrowser(auth, 'sim_chatty')
  sim.control.failNext('POST /oauth2/revoke', 1, 503)
  const failed = await browser.request(`${PUBLIC}/auth/connections/twitch`, { method: 'DELETE' })
  t.equal(failed.status, 503)
  t.equal(JSON.parse(failed.body).code, 'AUTH_PROVIDER_UNAVAILABLE')
  t.equal((await auth.db.selectFrom('connections').selectAll().execute()).length, 1, 'still connected')
  t.ok(await outboxDrained(auth), 'every event written so far is published')
  t.equal((await auth.events(ConnectionUnlinkedV1.subject)).length, 0, 'no event')

  // The stored access token expires (Twitch forgets it: /revoke answers 400); its refresh token has not.
  const { tokens: { refreshToken } } = await storedTokens(auth, row.user_id)
  sim.control.advanceClock(5 * 3_600_000)
  t.equal((await validate(accessToken)).status, 401, 'expired')
  const revokes = callsTo(sim, 'POST /oauth2/revoke')
  const ok = await browser.request(`${PUBLIC}/auth/connections/twitch`, { method: 'DELETE' })
  t.equal(ok.status, 204)
  t.equal(callsTo(sim, 'POST /oauth2/revoke'), revokes + 2, 'the access token was refused, the refresh token revoked')
  const refresh = await fetch(`${sim.twitchAuthUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: auth.config.TWITCH_CLIENT_ID, client_secret: auth.config.TWITCH_CLIENT_SECRET, grant_type: 'refresh_token', refresh_token: refreshToken! })
  })
  t.equal(refresh.status, 400, 'the grant is over: its refresh token no longer works')
})
