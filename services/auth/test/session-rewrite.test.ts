import { sessionKey, userSessionsKey } from '@pulse/service-kit'
import { Redis } from 'ioredis'
import t from 'tap'
import { RedisSessionStore } from '../src/session-store.js'
import { build, sessionIdFrom } from './helper.js'
import { interleaveAfterGet } from './redis-race.js'

/**
 * A time-zone change rewrites every session of the user; a logout may delete one of them between
 * the rewrite's read and its write. The store is given a Redis client that runs the logout exactly
 * there, so the interleaving happens every time.
 */
t.test('a logout between the read and the write of a session rewrite stays a logout', async (t) => {
  const auth = await build(t)
  const body = { username: 'racer', password: 'a long enough password' }
  const registered = await auth.app.inject({ method: 'POST', url: '/auth/register', headers: auth.from('10.0.0.1'), payload: body })
  const login = await auth.app.inject({ method: 'POST', url: '/auth/login', headers: auth.from('10.0.0.1'), payload: body })
  const loggedOut = sessionIdFrom(registered)!
  const kept = sessionIdFrom(login)!
  const userId = registered.json().user.id as string

  const client = new Redis(auth.config.REDIS_URL, { keyPrefix: auth.config.REDIS_PREFIX })
  t.teardown(() => client.disconnect())
  const logout = new RedisSessionStore(client, auth.config.REDIS_PREFIX, auth.config.SESSION_IDLE_TIMEOUT_S)
  const racing = interleaveAfterGet(client, sessionKey(loggedOut), async () => { await logout.remove(loggedOut) })
  const store = new RedisSessionStore(racing.client, auth.config.REDIS_PREFIX, auth.config.SESSION_IDLE_TIMEOUT_S)
  await store.updateUserSessions(userId, { timezone: 'Europe/Paris' })

  t.ok(racing.ran(), 'the logout ran between the read and the write')
  t.equal(await auth.redis.exists(sessionKey(loggedOut)), 0, 'the logged-out session was not written back')
  t.notOk((await auth.redis.smembers(userSessionsKey(userId))).includes(loggedOut), 'nor left in the user\'s index')
  const other = JSON.parse((await auth.redis.get(sessionKey(kept)))!) as { timezone: string }
  t.equal(other.timezone, 'Europe/Paris', 'the other session got the change')
  const ttl = await auth.redis.ttl(sessionKey(kept))
  t.ok(ttl > 0 && ttl <= auth.config.SESSION_IDLE_TIMEOUT_S, 'and kept its expiry')
})

t.test('PATCH /auth/me after a logout does not bring the session back', async (t) => {
  const auth = await build(t)
  const registered = await auth.app.inject({ method: 'POST', url: '/auth/register', headers: auth.from('10.0.0.2'), payload: { username: 'later', password: 'a long enough password' } })
  const sid = sessionIdFrom(registered)!
  const { id: userId, role, timezone } = registered.json().user as { id: string, role: 'user', timezone: string }
  const cookie = `pulse_session=${registered.cookies.find((c) => c.name === 'pulse_session')!.value}`
  t.equal((await auth.app.inject({ method: 'POST', url: '/auth/logout', headers: { ...auth.as({ userId, role, timezone }), cookie } })).statusCode, 204)
  const patched = await auth.app.inject({ method: 'PATCH', url: '/auth/me', headers: auth.as({ userId, role, timezone }), payload: { timezone: 'Asia/Tokyo' } })
  t.equal(patched.statusCode, 200)
  t.equal(await auth.redis.exists(sessionKey(sid)), 0)
})
