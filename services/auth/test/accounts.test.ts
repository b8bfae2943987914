import { sessionKey } from '@pulse/service-kit'
import t from 'tap'
import { build, cookieHeader, sessionExists, sessionIdFrom } from './helper.js'

const register = (auth: Awaited<ReturnType<typeof build>>, body: object, ip = '10.0.0.1') =>
  auth.app.inject({ method: 'POST', url: '/auth/register', headers: auth.from(ip), payload: body })
const login = (auth: Awaited<ReturnType<typeof build>>, body: object, ip = '10.0.0.1', headers: Record<string, string> = {}) =>
  auth.app.inject({ method: 'POST', url: '/auth/login', headers: { ...auth.from(ip), ...headers }, payload: body })

t.test('register creates the user, logs them in and hides the password hash', async (t) => {
  const auth = await build(t)
  const res = await register(auth, { username: 'Ada', password: 'correct horse battery', displayName: 'Ada L.', timezone: 'Europe/London' })
  t.equal(res.statusCode, 201)
  const { user } = res.json()
  t.match(user, { username: 'Ada', displayName: 'Ada L.', role: 'user', timezone: 'Europe/London', connections: [] })
  t.match(user.id, /^[0-9a-f-]{36}$/)
  t.notMatch(res.body, /argon2/)
  const sid = sessionIdFrom(res)
  t.ok(sid !== undefined && await sessionExists(auth.redis, sid), 'a session is stored in Redis')
  const stored = JSON.parse((await auth.redis.get(sessionKey(sid!)))!)
  t.match(stored, { userId: user.id, role: 'user', timezone: 'Europe/London' })
  const ttl = await auth.redis.ttl(sessionKey(sid!))
  t.ok(ttl > 0 && ttl <= auth.config.SESSION_IDLE_TIMEOUT_S, 'expires after the idle timeout')
})

t.test('usernames are unique regardless of case', async (t) => {
  const auth = await build(t)
  t.equal((await register(auth, { username: 'grace', password: 'a long enough password' })).statusCode, 201)
  const again = await register(auth, { username: 'GRACE', password: 'another password here' })
  t.equal(again.statusCode, 409)
  t.equal(again.json().code, 'AUTH_USERNAME_TAKEN')
  t.equal((await login(auth, { username: 'Grace', password: 'a long enough password' })).statusCode, 200, 'login ignores case')
})

t.test('bad registrations are refused with the field named', async (t) => {
  const auth = await build(t)
  const cases: [object, RegExp][] = [
    [{ username: 'ab', password: 'long enough pw' }, /body\/username/],
    [{ username: 'bad name', password: 'long enough pw' }, /body\/username/],
    [{ username: 'okname', password: 'short' }, /body\/password/],
    [{ username: 'okname', password: 'x'.repeat(1025) }, /body\/password/],
    [{ username: 'okname', password: 'long enough pw', timezone: 'Mars/Olympus' }, /body\/timezone/],
    [{ username: 'okname', password: 'long enough pw', admin: true }, /body\/admin is not an allowed field/],
    [{ username: 'okname', password: 12345678 }, /body\/password/]
  ]
  for (const [body, message] of cases) {
    const res = await register(auth, body)
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.match(res.json().message, message)
  }
  const { count } = await auth.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow()
  t.equal(count, 0, 'nothing was stored')
})

t.test('passwords are hashed with argon2id at OWASP parameters, stored with them, and taken whole', async (t) => {
  const auth = await build(t)
  const long = 'p'.repeat(300) + '!'
  await register(auth, { username: 'longpw', password: long })
  const row = await auth.db.selectFrom('users').select('password_hash').executeTakeFirstOrThrow()
  t.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/)
  t.equal((await login(auth, { username: 'longpw', password: long })).statusCode, 200)
  t.equal((await login(auth, { username: 'longpw', password: 'p'.repeat(300) })).statusCode, 401, 'no truncation: the last character counts')
})

t.test('hashes below the current parameters are upgraded at login', async (t) => {
  const auth = await build(t)
  await register(auth, { username: 'upgrade', password: 'the password 123' })
  const stronger = await build(t, { ARGON2_ITERATIONS: '3', DATABASE_URL: (auth.config.DATABASE_URL) })
  t.equal((await login(stronger, { username: 'upgrade', password: 'the password 123' })).statusCode, 200)
  const row = await auth.db.selectFrom('users').select('password_hash').executeTakeFirstOrThrow()
  t.match(row.password_hash, /m=19456,p=1,t=3/)
})

t.test('login twice: two different session ids, the first one gone from Redis', async (t) => {
  const auth = await build(t)
  await register(auth, { username: 'twice', password: 'the password 123' })
  const first = await login(auth, { username: 'twice', password: 'the password 123' })
  const firstId = sessionIdFrom(first)!
  t.ok(await sessionExists(auth.redis, firstId))
  const second = await login(auth, { username: 'twice', password: 'the password 123' }, '10.0.0.1', { cookie: cookieHeader(first) })
  const secondId = sessionIdFrom(second)!
  t.not(secondId, firstId)
  t.notOk(await sessionExists(auth.redis, firstId), 'the pre-login session is deleted')
  t.ok(await sessionExists(auth.redis, secondId))
})

t.test('logout removes the session from Redis and expires the cookie', async (t) => {
  const auth = await build(t)
  const reg = await register(auth, { username: 'leaver', password: 'the password 123' })
  const sid = sessionIdFrom(reg)!
  const res = await auth.app.inject({ method: 'POST', url: '/auth/logout', headers: { ...auth.from('10.0.0.1'), cookie: cookieHeader(reg) } })
  t.equal(res.statusCode, 204)
  t.notOk(await sessionExists(auth.redis, sid), 'gone from Redis')
  const cleared = res.cookies.find((c) => c.name === 'pulse_session')
  t.ok(cleared !== undefined && cleared.expires !== undefined && cleared.expires.getTime() <= Date.now(), 'the cookie is expired')
  t.equal(await auth.redis.scard(`user-sessions:${reg.json().user.id}`), 0)
})

t.test('anonymous traffic leaves no session keys in Redis', async (t) => {
  const auth = await build(t)
  await auth.app.inject({ url: '/health' })
  await auth.app.inject({ method: 'POST', url: '/auth/logout', headers: auth.from('10.0.0.2') })
  await login(auth, { username: 'nobody', password: 'wrong password' })
  await auth.app.inject({ method: 'POST', url: '/auth/register', headers: auth.from('10.0.0.2'), payload: { username: 'x' } })
  const keys = await auth.redis.keys(`${auth.config.REDIS_PREFIX}session:*`)
  t.same(keys, [])
})

t.test('cookie flags over http and https', async (t) => {
  for (const publicUrl of ['http://127.0.0.1:3000', 'https://pulse.example']) {
    const auth = await build(t, { PUBLIC_URL: publicUrl })
    const https = publicUrl.startsWith('https')
    const res = await auth.app.inject({
      method: 'POST', url: '/auth/register', headers: { ...auth.from('10.0.0.3'), 'x-forwarded-proto': https ? 'https' : 'http' }, payload: { username: 'cookie', password: 'the password 123' }
    })
    const header = String(res.headers['set-cookie'])
    const name = https ? '__Host-pulse_session' : 'pulse_session'
    t.match(header, new RegExp(`^${name}=`), `${publicUrl}: cookie name`)
    t.match(header, /HttpOnly/i)
    t.match(header, /SameSite=Lax/i)
    t.match(header, /Path=\//)
    if (https) t.match(header, /; Secure/i, 'Secure over https')
    else t.notMatch(header, /; Secure/i, 'not Secure over plain http (the browser would drop it)')
    t.notMatch(header, /Domain=/i, 'host-only')
    const logout = await auth.app.inject({ method: 'POST', url: '/auth/logout', headers: { ...auth.from('10.0.0.3'), 'x-forwarded-proto': https ? 'https' : 'http', cookie: `${name}=${res.cookies[0]!.value}` } })
    const cleared = String(logout.headers['set-cookie'])
    t.match(cleared, new RegExp(`^${name}=;`))
    if (https) t.match(cleared, /; Secure/i)
  }
})

t.test('unknown user and wrong password answer the same status and body', async (t) => {
  const auth = await build(t)
  await register(auth, { username: 'known', password: 'the password 123' })
  const wrong = await login(auth, { username: 'known', password: 'not the password' })
  const unknown = await login(auth, { username: 'unknown', password: 'not the password' })
  t.equal(wrong.statusCode, 401)
  t.equal(unknown.statusCode, 401)
  t.same(wrong.json(), unknown.json())
  t.same(wrong.json(), { statusCode: 401, error: 'Unauthorized', message: 'Invalid username or password', code: 'AUTH_INVALID_CREDENTIALS' })
  t.equal(wrong.headers['set-cookie'], undefined, 'no session on failure')
})

t.test('throttling kicks in after the configured failures, without locking out the right password from elsewhere', async (t) => {
  const auth = await build(t, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3' })
  await register(auth, { username: 'victim', password: 'the right password' })
  for (let i = 0; i < 3; i++) t.equal((await login(auth, { username: 'victim', password: `guess ${i}` }, '203.0.113.9')).statusCode, 401)
  const blocked = await login(auth, { username: 'victim', password: 'the right password' }, '203.0.113.9')
  t.equal(blocked.statusCode, 429, 'the attacking address is throttled, even with the right password')
  t.equal(blocked.json().code, 'AUTH_TOO_MANY_ATTEMPTS')
  t.ok(Number(blocked.headers['retry-after']) > 0)
  const elsewhere = await login(auth, { username: 'victim', password: 'the right password' }, '198.51.100.7')
  t.equal(elsewhere.statusCode, 200, 'the owner logs in from another address')
  const spoofed = await login(auth, { username: 'victim', password: 'guess 4' }, '203.0.113.9', { 'x-forwarded-for': '192.0.2.1' })
  t.equal(spoofed.statusCode, 429, 'a client header does not change the address')
})

t.test('unknown usernames are throttled like real ones', async (t) => {
  const auth = await build(t, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '2' })
  for (let i = 0; i < 2; i++) await login(auth, { username: 'ghost', password: 'whatever 123' }, '203.0.113.10')
  t.equal((await login(auth, { username: 'ghost', password: 'whatever 123' }, '203.0.113.10')).statusCode, 429)
})

t.test('me: read and change profile; time zones are validated', async (t) => {
  const auth = await build(t)
  const reg = await register(auth, { username: 'zoned', password: 'the password 123' })
  const { user } = reg.json()
  const me = await auth.app.inject({ url: '/auth/me', headers: auth.as({ userId: user.id, role: 'user', timezone: 'UTC' }) })
  t.equal(me.statusCode, 200)
  t.same(me.json().user, user)
  t.equal((await auth.app.inject({ url: '/auth/me', headers: auth.from('10.0.0.1') })).statusCode, 401, 'anonymous')
  t.equal((await auth.app.inject({ url: '/auth/me' })).statusCode, 401, 'not through the gateway')

  const headers = auth.as({ userId: user.id, role: 'user', timezone: 'UTC' })
  const bad = await auth.app.inject({ method: 'PATCH', url: '/auth/me', headers, payload: { timezone: 'Not/AZone' } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /body\/timezone/)
  const ok = await auth.app.inject({ method: 'PATCH', url: '/auth/me', headers, payload: { timezone: 'America/New_York', displayName: 'Zed' } })
  t.equal(ok.statusCode, 200)
  t.match(ok.json().user, { timezone: 'America/New_York', displayName: 'Zed' })
  const stored = JSON.parse((await auth.redis.get(sessionKey(sessionIdFrom(reg)!)))!)
  t.equal(stored.timezone, 'America/New_York', 'live sessions carry the new time zone')
})
