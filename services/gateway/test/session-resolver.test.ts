import { Signer } from '@fastify/cookie'
import { sessionKey, sessionRevokedChannel } from '@pulse/service-kit'
import { TcpProxy, eventually, testInfra, testRedisKeySpace, type Teardown } from '@pulse/testing'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { Writable } from 'node:stream'
import t from 'tap'
import { loadGatewayConfig } from '../src/config.js'
import sessionsPlugin, { SessionResolver } from '../src/plugins/sessions.js'

// The gateway's session resolution on its own, against the real Redis: the cookie, the record,
// the absolute lifetime, the cache, revocations and Redis failures. (test/sessions.test.ts and
// test/identity.test.ts show the same through a whole stack.)

const SESSION_SECRET = 'resolver-test-session-secret-0123456789abcdef'
const PREVIOUS_SECRET = 'resolver-test-previous-secret-0123456789abcd'
const IDLE_S = 3600
const ABSOLUTE_S = 7200
const CACHE_MS = 60_000
const infra = await testInfra()
const { redis, prefix } = await testRedisKeySpace(t, 'resolver')

const configWith = (env: Record<string, string> = {}) => loadGatewayConfig({
  REDIS_URL: infra.redisUrl,
  REDIS_PREFIX: prefix,
  SESSION_SECRET,
  SESSION_IDLE_TIMEOUT_S: String(IDLE_S),
  SESSION_ABSOLUTE_TIMEOUT_S: String(ABSOLUTE_S),
  SESSION_CACHE_MS: String(CACHE_MS),
  LOG_LEVEL: 'silent',
  ...env
})
const signer = new Signer([SESSION_SECRET], 'sha256')
/** The Cookie header value of a session id, signed as auth signs it. */
const cookieOf = (sessionId: string, secret = SESSION_SECRET) => encodeURIComponent(new Signer([secret], 'sha256').sign(sessionId))
const recordOf = (userId: string, createdAt = Date.now()) => ({ userId, role: 'user', timezone: 'UTC', createdAt })
const store = async (sessionId: string, record: object, ttl = 100) => { await redis.set(sessionKey(sessionId), JSON.stringify(record), 'EX', ttl) }

t.test('the session id is read only from a validly signed cookie of the right name', async (t) => {
  const resolver = new SessionResolver(redis, configWith({ SESSION_SECRET_PREVIOUS: PREVIOUS_SECRET }))
  t.equal(resolver.cookieName, 'pulse_session')
  const signed = cookieOf('sid-1')
  t.equal(resolver.sessionIdFrom(undefined), null)
  t.equal(resolver.sessionIdFrom(''), null)
  t.equal(resolver.sessionIdFrom(`pulse_session=${signed}`), 'sid-1')
  t.equal(resolver.sessionIdFrom(`theme=dark; pulse_session=${signed}; lang=fr`), 'sid-1', 'among other cookies')
  t.equal(resolver.sessionIdFrom(`theme=dark;pulse_session=${signed}`), 'sid-1', 'after a bare semicolon')
  t.equal(resolver.sessionIdFrom(`pulse_session=${signed} ;x=1`), 'sid-1', 'spaces around the value are not part of it')
  t.equal(resolver.sessionIdFrom(`xpulse_session=${cookieOf('sid-evil')}; pulse_session=${signed}`), 'sid-1', 'not a cookie whose name merely ends the same')
  t.equal(resolver.sessionIdFrom(`xpulse_session=${signed}`), null, 'that cookie alone is no session')
  t.equal(resolver.sessionIdFrom(`pulse_session=${cookieOf('sid-2', PREVIOUS_SECRET)}`), 'sid-2', 'the previous secret still signs')
  t.equal(resolver.sessionIdFrom(`pulse_session=${cookieOf('sid-3', 'another-secret-0123456789abcdef0123')}`), null, 'a forged signature')
  t.equal(resolver.sessionIdFrom('pulse_session=sid-4'), null, 'no signature')
  t.equal(resolver.sessionIdFrom('pulse_session=%E0%A4%A'), null, 'a value that cannot be decoded')
  t.equal(resolver.sessionIdFrom('pulse_session=%E0%A4%A'), null, 'and again, from what was remembered')
  t.equal(resolver.sessionIdFrom(`pulse_session=${signed}`), 'sid-1', 'a known value again')
  const https = new SessionResolver(redis, configWith({ PUBLIC_URL: 'https://pulse.example' }))
  t.equal(https.sessionIdFrom(`pulse_session=${signed}`), null, 'over HTTPS the cookie has the __Host- name')
  t.equal(https.sessionIdFrom(`__Host-pulse_session=${signed}`), 'sid-1')
  t.equal(signer.unsign(decodeURIComponent(signed)).value, 'sid-1')
})

t.test('a stored session resolves to its record and has its idle timeout renewed', async (t) => {
  const resolver = new SessionResolver(redis, configWith())
  const record = recordOf('u-ada')
  await store('live', record, 50)
  t.same(await resolver.resolve('live'), record)
  const ttl = await redis.ttl(sessionKey('live'))
  t.ok(ttl > IDLE_S - 5 && ttl <= IDLE_S, `the idle timeout starts again (${ttl})`)
  t.equal(await resolver.resolve('never-stored'), null)
})

t.test('a session past its absolute lifetime, or without a user, is none and is deleted', async (t) => {
  const resolver = new SessionResolver(redis, configWith())
  await store('old', recordOf('u-old', Date.now() - ABSOLUTE_S * 1000 - 1000))
  t.equal(await resolver.resolve('old'), null)
  t.equal(await redis.exists(sessionKey('old')), 0, 'deleted')
  await store('nearly-old', recordOf('u-nearly', Date.now() - ABSOLUTE_S * 1000 + 60_000))
  t.match(await resolver.resolve('nearly-old'), { userId: 'u-nearly' }, 'a minute before the end it still counts')
  await store('no-user', { role: 'user', timezone: 'UTC', createdAt: Date.now() })
  t.equal(await resolver.resolve('no-user'), null)
  t.equal(await redis.exists(sessionKey('no-user')), 0, 'deleted')
  t.equal(resolver.cached('no-user'), null, 'and remembered as none')
})

t.test('a resolved session is reused for SESSION_CACHE_MS, and only that long', async (t) => {
  const resolver = new SessionResolver(redis, configWith())
  await store('cached', recordOf('u-cache'))
  let before = 0
  let after = -1
  // Until the resolution starts and ends in the same millisecond: then its expiry is known exactly.
  while (before !== after) {
    resolver.forget('cached')
    before = Date.now()
    await resolver.resolve('cached')
    after = Date.now()
  }
  t.match(resolver.cached('cached', before + CACHE_MS - 1), { userId: 'u-cache' })
  t.equal(resolver.cached('cached', before + CACHE_MS), undefined, 'expired at SESSION_CACHE_MS')
  await store('cached', recordOf('u-changed'))
  t.match(await resolver.resolve('cached'), { userId: 'u-cache' }, 'Redis is not asked again meanwhile')
  t.equal(resolver.cached('never-resolved'), undefined)
  await store('second', recordOf('u-second'))
  await resolver.resolve('second')
  t.match(resolver.cached('cached'), { userId: 'u-cache' }, 'several sessions are cached at once')
  t.match(resolver.cached('second'), { userId: 'u-second' })

  const uncached = new SessionResolver(redis, configWith({ SESSION_CACHE_MS: '0' }))
  await uncached.resolve('cached')
  t.equal(uncached.cached('cached', 0), undefined, 'SESSION_CACHE_MS=0 caches nothing')
})

t.test('forgetting drops the cached copy and tells every listener until it unsubscribes', async (t) => {
  const resolver = new SessionResolver(redis, configWith())
  await store('f1', recordOf('u-f1'))
  await store('f2', recordOf('u-f2'))
  await resolver.resolve('f1')
  await resolver.resolve('f2')
  const heard: (string | null)[] = []
  const unsubscribe = resolver.onForget((id) => heard.push(id))
  resolver.forget('f1')
  t.equal(resolver.cached('f1'), undefined)
  t.match(resolver.cached('f2'), { userId: 'u-f2' }, 'only that one')
  resolver.forgetAll()
  t.equal(resolver.cached('f2'), undefined)
  t.same(heard, ['f1', null])
  unsubscribe()
  resolver.forget('f2')
  t.same(heard, ['f1', null], 'not told after unsubscribing')
})

t.test('Redis unreachable: resolving fails as "sessions unavailable", never as no session', async (t) => {
  const down = new Redis(infra.redisUrl, { keyPrefix: prefix, lazyConnect: true, enableOfflineQueue: false })
  const resolver = new SessionResolver(down, configWith())
  const error = await resolver.resolve('any').then(() => undefined, (e: unknown) => e as Error & { code: string, statusCode: number, cause: unknown })
  t.equal(error?.code, 'GATEWAY_SESSION_UNAVAILABLE')
  t.equal(error?.statusCode, 503)
  t.ok(error?.cause instanceof Error, 'with the cause kept')
  down.disconnect()
})

/** The sessions plugin in a bare Fastify with a real Redis client (what `pulse-redis` provides), through a cuttable connection. */
async function appWithSessions (t: Teardown) {
  const proxy = await TcpProxy.start(infra.redisUrl)
  t.teardown(() => proxy.stop())
  const config = configWith()
  const client = new Redis(proxy.url(infra.redisUrl), { keyPrefix: prefix, retryStrategy: () => 50 })
  client.on('error', () => {}) // expected while the connection is cut
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'warn', stream: new Writable({ write (chunk, _encoding, callback) { lines.push(String(chunk)); callback() } }) } })
  await app.register(fp(async (instance) => {
    instance.decorate('redis', client as never)
    instance.addHook('onClose', async () => { client.disconnect() })
  }, { name: 'pulse-redis' }))
  await app.register(sessionsPlugin, { config })
  app.get('/private', async (request) => ({ sessionId: request.sessionId, user: request.user }))
  app.get('/public', { config: { public: true } }, async (request) => ({ sessionId: request.sessionId, user: request.user }))
  await app.ready()
  t.teardown(() => app.close())
  return { app, proxy, lines }
}

t.test('each request gets its session\'s user; public routes and anonymous requests none', async (t) => {
  const { app } = await appWithSessions(t)
  const record = recordOf('u-req')
  await store('req', record)
  const get = async (url: string, cookie?: string) => (await app.inject({ url, headers: cookie === undefined ? {} : { cookie } })).json()
  t.same(await get('/private', `pulse_session=${cookieOf('req')}`), { sessionId: 'req', user: record })
  t.same(await get('/private', `pulse_session=${cookieOf('req')}`), { sessionId: 'req', user: record }, 'again, from the cache')
  t.same(await get('/private', `pulse_session=${cookieOf('gone')}`), { sessionId: 'gone', user: null }, 'a signed cookie without a session')
  t.same(await get('/private'), { sessionId: null, user: null })
  t.same(await get('/private', 'pulse_session=forged'), { sessionId: null, user: null })
  t.same(await get('/public', `pulse_session=${cookieOf('req')}`), { sessionId: null, user: null }, 'public routes do not look')
})

t.test('a revocation announced on Redis drops the cached session at once', async (t) => {
  const { app } = await appWithSessions(t)
  await store('revoked', recordOf('u-rev'))
  const cookie = `pulse_session=${cookieOf('revoked')}`
  t.match((await app.inject({ url: '/private', headers: { cookie } })).json(), { user: { userId: 'u-rev' } })
  const heard: (string | null)[] = []
  app.sessions.onForget((id) => heard.push(id))
  await redis.del(sessionKey('revoked'))
  await redis.publish(sessionRevokedChannel(prefix), 'revoked')
  t.ok(await eventually(() => heard.includes('revoked'), 5000), 'the announcement arrived')
  t.same((await app.inject({ url: '/private', headers: { cookie } })).json(), { sessionId: 'revoked', user: null })
})

t.test('Redis down: a request with an uncached session fails with 503; after a reconnect the cache starts empty', async (t) => {
  const { app, proxy, lines } = await appWithSessions(t)
  await store('kept', recordOf('u-kept'))
  const cookie = (id: string) => ({ cookie: `pulse_session=${cookieOf(id)}` })
  t.equal((await app.inject({ url: '/private', headers: cookie('kept') })).statusCode, 200)
  const heard: (string | null)[] = []
  app.sessions.onForget((id) => heard.push(id))
  await proxy.cut()
  const failed = await app.inject({ url: '/private', headers: cookie('uncached') })
  t.equal(failed.statusCode, 503)
  t.equal(failed.json().code, 'GATEWAY_SESSION_UNAVAILABLE')
  t.ok(await eventually(() => lines.some((line) => line.includes('redis subscriber error')), 5000), 'the subscriber\'s trouble is logged')
  await proxy.restore()
  t.ok(await eventually(() => heard.includes(null), 10_000), 'revocations may have been missed: everything is forgotten')
  t.equal(app.sessions.cached('kept'), undefined)
  t.equal((await app.inject({ url: '/private', headers: cookie('kept') })).statusCode, 200, 'and sessions resolve again')
})
