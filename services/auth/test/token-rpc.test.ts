import { ConnectionInvalidatedV1, TOKEN_REQUEST_SUBJECTS, type TokenProvider, type TokenReply } from '@pulse/contracts'
import { SIM_CREDENTIALS } from '@pulse/provider-sim'
import { testInfra } from '@pulse/testing'
import { connect } from '@nats-io/transport-node'
import t from 'tap'
import { signIn } from './browser.js'
import { build, callsTo, eventually, settle, startSim, storedTokens, type TestAuth } from './helper.js'

const sim = await startSim(t)
const nc = await connect({ servers: (await testInfra()).natsUrl, name: 'auth-test-ingest' })
t.teardown(() => nc.close())
const TOKEN = 'POST /oauth2/token'
const HOUR = 3_600_000

/**
 * What an ingest service does: a request on core NATS, on its provider's subject (or `on`: what a
 * service asking for another provider's token would try), the reply parsed.
 */
async function requestToken (auth: TestAuth, request: { provider?: string } & Record<string, unknown>, on?: TokenProvider): Promise<TokenReply> {
  const subject = TOKEN_REQUEST_SUBJECTS[on ?? (request.provider === 'twitter' ? 'twitter' : 'twitch')]
  const msg = await nc.request(auth.inner.nats.subject(subject), JSON.stringify(request), { timeout: 10_000 })
  return msg.json<TokenReply>()
}

function accessTokenOf (reply: TokenReply): string {
  if (!reply.ok) throw new Error(`no token: ${reply.error} ${reply.message}`)
  return reply.accessToken
}

const helix = (path: string, token: string) => fetch(`${sim.twitchApiUrl}${path}`, { headers: { authorization: `Bearer ${token}`, 'client-id': SIM_CREDENTIALS.twitch.clientId } })

t.test('a token request over NATS answers a token Helix accepts for everything the dashboard reads', async (t) => {
  const auth = await build(t, {}, { sim })
  const { userId } = await signIn(auth, 'twitch', 'sim_mid')
  const twitchId = sim.control.expectedTwitch('sim_mid').userId
  const reply = await requestToken(auth, { userId, provider: 'twitch' })
  t.match(reply, { ok: true, provider: 'twitch', providerUserId: twitchId, providerLogin: 'sim_mid', scopes: ['moderator:read:followers', 'channel:read:subscriptions', 'user:read:follows', 'bits:read'] })
  t.notOk('tokenSecret' in reply, 'no token secret for Twitch')
  if (!reply.ok) return
  t.ok(reply.expiresAt !== null && Date.parse(reply.expiresAt) > sim.control.now() + 3 * HOUR, 'expires in about four hours')
  const users = await helix('/users', reply.accessToken)
  t.equal(users.status, 200)
  t.equal(((await users.json()) as { data: { login: string }[] }).data[0]?.login, 'sim_mid')
  for (const path of [
    `/channels/followers?broadcaster_id=${twitchId}`,
    `/subscriptions?broadcaster_id=${twitchId}`,
    `/channels/followed?user_id=${twitchId}`,
    `/streams/followed?user_id=${twitchId}`,
    '/bits/leaderboard'
  ]) t.equal((await helix(path, reply.accessToken)).status, 200, path)
  const followers = await (await helix(`/channels/followers?broadcaster_id=${twitchId}`, reply.accessToken)).json() as { total: number, data: unknown[] }
  t.ok(followers.total > 0 && followers.data.length > 0, 'the followers list, not only the total (docs/providers.md §1.3 trap)')
})

t.test('requests for no connection, and requests that break the contract, get a failure that says so', async (t) => {
  const auth = await build(t, {}, { sim })
  t.match(await requestToken(auth, { userId: '00000000-0000-4000-8000-000000000000', provider: 'twitch' }), { ok: false, error: 'not_connected' })
  const bad = await requestToken(auth, { userId: 'x', provider: 'myspace' })
  t.match(bad, { ok: false, error: 'unavailable', message: /invalid token request: \/provider/ })
  t.match(await requestToken(auth, { userId: 'x', provider: 'twitch', extra: 1 }), { ok: false, message: /invalid token request/ })
})

t.test('a token is handed out only on its own provider\'s subject', async (t) => {
  const auth = await build(t, {}, { sim })
  const { userId } = await signIn(auth, 'twitch', 'sim_mid')
  const elsewhere = await requestToken(auth, { userId, provider: 'twitch' }, 'twitter')
  t.same(elsewhere, { ok: false, error: 'unavailable', message: 'invalid token request: twitter tokens only on this subject' }, 'a Twitch token asked on the X subject is refused')
  t.match(await requestToken(auth, { userId, provider: 'twitch' }, 'twitch'), { ok: true, provider: 'twitch' }, 'on its own subject it is answered')
})

t.test('an expired token is refreshed: the refresh token rotates, the new one is stored, Helix takes the new access token', async (t) => {
  const auth = await build(t, {}, { sim })
  const { userId } = await signIn(auth, 'twitch', 'sim_big')
  const first = accessTokenOf(await requestToken(auth, { userId, provider: 'twitch' }))
  const before = await storedTokens(auth, userId)
  const calls = callsTo(sim, TOKEN)

  sim.control.advanceClock(5 * HOUR)
  t.equal((await helix('/users', first)).status, 401, 'the old access token has expired at Twitch')
  const refreshed = await requestToken(auth, { userId, provider: 'twitch' })
  const second = accessTokenOf(refreshed)
  t.not(second, first, 'a new access token')
  t.equal(callsTo(sim, TOKEN), calls + 1, 'one refresh')
  t.equal((await helix('/users', second)).status, 200)
  t.ok(refreshed.ok && Date.parse(refreshed.expiresAt!) > sim.control.now(), 'the new expiry is after the (moved) clock')

  const after = await storedTokens(auth, userId)
  t.equal(after.tokens.accessToken, second)
  t.not(after.tokens.refreshToken, before.tokens.refreshToken, 'the rotated refresh token is stored')
  t.match(after.tokens.refreshToken, /[%/=]/, 'refresh tokens with %, / and = work (sent URL-encoded)')
  const reuse = await fetch(`${sim.twitchAuthUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: auth.config.TWITCH_CLIENT_ID, client_secret: auth.config.TWITCH_CLIENT_SECRET, grant_type: 'refresh_token', refresh_token: before.tokens.refreshToken! })
  })
  t.equal(reuse.status, 400, 'the old refresh token is spent at Twitch')

  t.equal(accessTokenOf(await requestToken(auth, { userId, provider: 'twitch' })), second, 'the next request gets the same token')
  t.equal(callsTo(sim, TOKEN), calls + 2, 'without another refresh (the one above was the test\'s own)')
})

t.test('rejectedAccessToken: the current token is refreshed once; an already replaced one gets the current token', async (t) => {
  const auth = await build(t, {}, { sim })
  const { userId } = await signIn(auth, 'twitch', 'sim_mid')
  const t0 = accessTokenOf(await requestToken(auth, { userId, provider: 'twitch' }))
  const calls = callsTo(sim, TOKEN)
  const t1 = accessTokenOf(await requestToken(auth, { userId, provider: 'twitch', rejectedAccessToken: t0 }))
  t.not(t1, t0)
  t.equal(callsTo(sim, TOKEN), calls + 1)
  t.equal(accessTokenOf(await requestToken(auth, { userId, provider: 'twitch', rejectedAccessToken: t0 })), t1, 'a stale rejection: the current token, no refresh')
  t.equal(callsTo(sim, TOKEN), calls + 1)
  t.equal(accessTokenOf(await requestToken(auth, { userId, provider: 'twitch', rejectedAccessToken: 'something-else' })), t1)
  t.equal(callsTo(sim, TOKEN), calls + 1)
})

t.test('two auth instances on one database and bus: concurrent requests for one user make exactly one refresh at Twitch', async (t) => {
  const a = await build(t, {}, { sim })
  const b = await build(t, { DATABASE_URL: a.config.DATABASE_URL, NATS_PREFIX: a.config.NATS_PREFIX }, { sim })
  const { userId } = await signIn(a, 'twitch', 'sim_mid')
  const t0 = accessTokenOf(await requestToken(a, { userId, provider: 'twitch' }))

  // Straight into each instance, so both surely take part.
  let calls = callsTo(sim, TOKEN)
  const [fromA, fromB] = await Promise.all([
    a.inner.tokens.handle({ userId, provider: 'twitch', rejectedAccessToken: t0 }),
    b.inner.tokens.handle({ userId, provider: 'twitch', rejectedAccessToken: t0 })
  ])
  t.equal(callsTo(sim, TOKEN), calls + 1, 'one refresh for two concurrent rejections')
  const t1 = accessTokenOf(fromA)
  t.equal(accessTokenOf(fromB), t1, 'both get the new token')
  t.equal((await helix('/users', t1)).status, 200, 'and it works')

  // Over the bus: many concurrent requests, shared by the two instances' queue group, after expiry.
  sim.control.advanceClock(5 * HOUR)
  calls = callsTo(sim, TOKEN)
  const replies = await Promise.all(Array.from({ length: 8 }, () => requestToken(a, { userId, provider: 'twitch' })))
  t.equal(callsTo(sim, TOKEN), calls + 1, 'one refresh for eight concurrent requests')
  const tokens = new Set(replies.map(accessTokenOf))
  t.equal(tokens.size, 1, 'all eight get the same token')
  t.equal((await helix('/users', [...tokens][0]!)).status, 200)
  t.match((await storedTokens(a, userId)).row, { status: 'active' })
})

t.test('a refresh Twitch refuses marks the connection invalid, announces it and answers invalid_grant', async (t) => {
  const auth = await build(t, {}, { sim })
  const { userId } = await signIn(auth, 'twitch', 'sim_new')
  const t0 = accessTokenOf(await requestToken(auth, { userId, provider: 'twitch' }))
  sim.control.revokeGrant('twitch', 'sim_new')
  t.match(await requestToken(auth, { userId, provider: 'twitch', rejectedAccessToken: t0 }), { ok: false, error: 'invalid_grant' })
  t.equal((await storedTokens(auth, userId)).row.status, 'invalid')
  t.ok(await eventually(async () => (await auth.events(ConnectionInvalidatedV1.subject)).length === 1), 'invalidated event published')
  t.match((await auth.events(ConnectionInvalidatedV1.subject))[0], { userId, provider: 'twitch', reason: 'refresh_rejected' })
  const calls = callsTo(sim, TOKEN)
  t.match(await requestToken(auth, { userId, provider: 'twitch' }), { ok: false, error: 'invalid_grant' }, 'later requests too, without calling Twitch')
  t.equal(callsTo(sim, TOKEN), calls)
  await settle()
  t.equal((await auth.events(ConnectionInvalidatedV1.subject)).length, 1, 'announced once')
})

t.test('Twitch unreachable during a refresh: unavailable, and the connection stays as it was', async (t) => {
  const auth = await build(t, {}, { sim })
  const { userId } = await signIn(auth, 'twitch', 'sim_mid')
  const t0 = accessTokenOf(await requestToken(auth, { userId, provider: 'twitch' }))
  const before = await storedTokens(auth, userId)
  sim.control.failNext(TOKEN, 1, 503)
  t.match(await requestToken(auth, { userId, provider: 'twitch', rejectedAccessToken: t0 }), { ok: false, error: 'unavailable' })
  const after = await storedTokens(auth, userId)
  t.equal(after.row.status, 'active')
  t.same(after.tokens, before.tokens, 'tokens unchanged')
  t.not(accessTokenOf(await requestToken(auth, { userId, provider: 'twitch', rejectedAccessToken: t0 })), t0, 'the retry refreshes')
})
