import { ConnectionInvalidatedV1, TWITCH_EVENTSUB_STREAM, TwitchAuthorizationRevokedV1 } from '@pulse/contracts'
import t from 'tap'
import { signIn } from './browser.js'
import { TEST_PUBLIC_URL, build, eventually, quiet, startSim, storedTokens } from './helper.js'

const sim = await startSim(t)

t.test('a grant revoked at Twitch (user.authorization.revoke): the connection is marked invalid and its tokens deleted, once', async (t) => {
  const auth = await build(t, {}, { sim })
  t.teardown(async () => { await auth.inner.nats.jsm.streams.delete(auth.inner.nats.streamName(TWITCH_EVENTSUB_STREAM)).catch(() => {}) })
  const { browser, userId } = await signIn(auth, 'twitch', 'sim_big')
  const other = await signIn(auth, 'twitch', 'sim_mid')
  const { row } = await storedTokens(auth, userId)
  t.not(row.access_token, null, 'tokens stored')
  const otherBefore = (await storedTokens(auth, other.userId)).row

  const revoked = { userId, provider: 'twitch' as const, providerUserId: row.provider_user_id, revokedAt: new Date(Date.now() + 1000).toISOString() }
  // Delivered twice (a redelivery): the second changes nothing and announces nothing.
  await auth.inner.nats.publish(TwitchAuthorizationRevokedV1, revoked, { msgID: 'one' })
  await auth.inner.nats.publish(TwitchAuthorizationRevokedV1, revoked, { msgID: 'two' })
  // Someone else's Twitch account under this user id is not this connection.
  await auth.inner.nats.publish(TwitchAuthorizationRevokedV1, { ...revoked, userId: other.userId, providerUserId: '1' })

  t.ok(await eventually(async () => {
    const current = await auth.db.selectFrom('connections').selectAll().where('user_id', '=', userId).executeTakeFirst()
    return current?.status === 'invalid' && current.access_token === null
  }), 'invalid, tokens gone')
  const current = await auth.db.selectFrom('connections').selectAll().where('user_id', '=', userId).executeTakeFirstOrThrow()
  t.same([current.refresh_token, current.token_secret, current.expires_at], [null, null, null])
  t.match(await auth.inner.tokens.handle({ userId, provider: 'twitch' }), { ok: false, error: 'invalid_grant' })
  const me = JSON.parse((await browser.request(`${TEST_PUBLIC_URL}/auth/me`)).body)
  t.match(me.user.connections, [{ provider: 'twitch', status: 'invalid' }], 'the user sees it')

  t.ok(await eventually(async () => (await auth.events(ConnectionInvalidatedV1.subject)).length === 1))
  t.ok(await quiet(auth), 'auth has nothing left to do')
  t.match(await auth.events(ConnectionInvalidatedV1.subject), [{ userId, provider: 'twitch', reason: 'authorization_revoked' }], 'announced once')
  t.same((await storedTokens(auth, other.userId)).row, otherBefore, 'the other connection is untouched')
})
