import { IDENTITY_HEADER, sessionKey, sessionRevokedChannel, signIdentity, userSessionsKey, verifyAssertion } from '@pulse/service-kit'
import { eventually } from '@pulse/testing'
import t from 'tap'
import { Browser, IDENTITY_SECRET, startStack } from './helper.js'

// Long enough that anything seen within a test's waits came from an announcement, not the cache running out.
const LONG_CACHE = { SESSION_CACHE_MS: '60000' }

t.test('an anonymous client\'s validly signed assertion for another user is replaced: 401, and the service never sees it', async (t) => {
  const stack = await startStack(t)
  const victim = new Browser(stack.gatewayUrl)
  const victimId = (await victim.fetch('/auth/register', { method: 'POST', body: { username: 'victim', password: 'a fine password' } })).json.user.id as string
  // Signed with the real key, for the right service: only the gateway's stripping stops it.
  const stolen = signIdentity({ userId: victimId, role: 'admin', timezone: 'UTC', requestId: 'x', audience: 'mood' }, IDENTITY_SECRET, 60)
  const attacker = new Browser(stack.gatewayUrl)
  for (const name of [IDENTITY_HEADER, 'X-Pulse-Identity']) {
    const res = await attacker.fetch('/mood/whoami', { headers: { [name]: stolen } })
    t.equal(res.status, 401, `${name}: the assertion logs nobody in`)
    t.equal(res.json.code, 'ECHO_UNAUTHENTICATED')
    const seen = await attacker.fetch('/mood/public', { headers: { [name]: stolen } })
    const received = seen.json.headers[IDENTITY_HEADER] as string
    t.not(received, stolen, 'the service received the gateway\'s assertion, not the client\'s')
    const verified = verifyAssertion(received, [IDENTITY_SECRET], 'mood')
    t.ok(verified.ok && verified.assertion.user === null, 'and it asserts an anonymous visitor')
    t.equal(seen.json.identity, null)
  }
})

t.test('a logout or a role change on one gateway replica is honoured by another at once', async (t) => {
  const stack = await startStack(t, { gatewayEnv: LONG_CACHE })
  const other = await stack.startReplica()
  const onA = new Browser(stack.gatewayUrl)
  const userId = (await onA.fetch('/auth/register', { method: 'POST', body: { username: 'roamer', password: 'a fine password' } })).json.user.id as string
  const onB = new Browser(other)
  onB.setCookie('pulse_session', onA.cookie('pulse_session')!)
  const before = await onB.fetch('/mood/whoami')
  t.equal(before.json.identity?.role, 'user', 'replica B has resolved and cached the session')

  // What auth does on a profile change: the session rewritten, the change announced.
  const [sessionId] = await stack.redis.smembers(userSessionsKey(userId))
  const record = JSON.parse((await stack.redis.get(sessionKey(sessionId!)))!) as Record<string, unknown>
  await stack.redis.set(sessionKey(sessionId!), JSON.stringify({ ...record, role: 'admin' }), 'KEEPTTL')
  await stack.redis.publish(sessionRevokedChannel(stack.redisPrefix), sessionId!)
  t.ok(await eventually(async () => (await onB.fetch('/mood/whoami')).json.identity?.role === 'admin', 10_000), 'B sees the new role well before its cache would expire')

  t.equal((await onA.fetch('/auth/logout', { method: 'POST' })).status, 204, 'logged out on A')
  t.ok(await eventually(async () => (await onB.fetch('/mood/whoami')).status === 401, 10_000), 'B refuses the session well before its cache would expire')
})

t.test('a time-zone change reaches mood through the gateway\'s cached session', async (t) => {
  const stack = await startStack(t, { gatewayEnv: LONG_CACHE })
  const other = await stack.startReplica()
  const browser = new Browser(stack.gatewayUrl)
  await browser.fetch('/auth/register', { method: 'POST', body: { username: 'traveller', password: 'a fine password', timezone: 'Europe/Paris' } })
  const elsewhere = new Browser(other)
  elsewhere.setCookie('pulse_session', browser.cookie('pulse_session')!)
  t.equal((await browser.fetch('/mood/whoami')).json.identity.timezone, 'Europe/Paris')
  t.equal((await elsewhere.fetch('/mood/whoami')).json.identity.timezone, 'Europe/Paris', 'both replicas have cached it')
  const patched = await browser.fetch('/auth/me', { method: 'PATCH', body: { timezone: 'Asia/Tokyo' } })
  t.equal(patched.status, 200)
  t.ok(await eventually(async () => (await browser.fetch('/mood/whoami')).json.identity.timezone === 'Asia/Tokyo', 10_000), 'mood gets the new time zone through this replica')
  t.ok(await eventually(async () => (await elsewhere.fetch('/mood/whoami')).json.identity.timezone === 'Asia/Tokyo', 10_000), 'and through the other')
})

t.test('a session ends after SESSION_IDLE_TIMEOUT_S without use, and each use extends it', async (t) => {
  const idle = { SESSION_IDLE_TIMEOUT_S: '120', SESSION_CACHE_MS: '0' }
  const stack = await startStack(t, { gatewayEnv: idle, authEnv: idle })
  const browser = new Browser(stack.gatewayUrl)
  const userId = (await browser.fetch('/auth/register', { method: 'POST', body: { username: 'idler', password: 'a fine password' } })).json.user.id as string
  const [sessionId] = await stack.redis.smembers(userSessionsKey(userId))
  const key = sessionKey(sessionId!)

  // Almost idle for too long: a request through the gateway gives it the whole idle timeout again.
  await stack.redis.pexpire(key, 5_000)
  t.equal((await browser.fetch('/mood/whoami')).status, 200)
  const ttl = await stack.redis.pttl(key)
  t.ok(ttl > 100_000 && ttl <= 120_000, `the use extended it to the idle timeout (${ttl} ms left)`)

  // Left unused, Redis expires it: the next request is anonymous.
  await stack.redis.pexpire(key, 200)
  t.ok(await eventually(async () => (await stack.redis.exists(key)) === 0, 10_000), 'the session expired')
  t.equal((await browser.fetch('/mood/whoami')).status, 401, 'the expired session opens nothing')
  t.equal((await browser.fetch('/auth/me')).status, 401)
})
