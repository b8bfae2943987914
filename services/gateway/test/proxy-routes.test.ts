import { Signer } from '@fastify/cookie'
import { IDENTITY_HEADER, createServiceMetrics, sessionKey, verifyAssertion } from '@pulse/service-kit'
import { eventually, freePort, testInfra, uniqueName } from '@pulse/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import http from 'node:http'
import net from 'node:net'
import t from 'tap'
import { loadGatewayConfig } from '../src/config.js'
import sessionsPlugin from '../src/plugins/sessions.js'
import proxyRoutes from '../src/routes/proxy.js'

// The proxy routes on their own: the sessions plugin and the routes in a bare Fastify, in front of
// small HTTP servers that answer what they were sent (and misbehave on request). What reaches a
// service, what a client gets back, and what each way of failing answers. (test/proxy.test.ts shows
// the same through a whole stack.)

const IDENTITY_SECRET = 'proxy-routes-test-identity-secret-0123456789'
const SESSION_SECRET = 'proxy-routes-test-session-secret-0123456789ab'
const IDENTITY_TTL_S = 6
const BODY_LIMIT = 2000
const BUFFERED_LIMIT = 64 * 1024
const infra = await testInfra()
const prefix = `${uniqueName('proxy')}:`
const redis = new Redis(infra.redisUrl, { keyPrefix: prefix })

interface Seen { upstream: string, method: string, url: string, headers: http.IncomingHttpHeaders, body: string }

/** A service that answers what it was sent, and misbehaves on the paths named for it. */
async function startUpstream (name: string): Promise<{ url: string, server: http.Server }> {
  const server = http.createServer((req, res) => {
    const path = req.url ?? ''
    if (path.endsWith('/reset')) { req.socket.destroy(); return }
    if (path.endsWith('/garbage')) { req.socket.end('NOT HTTP AT ALL\r\n\r\n'); return }
    let body = ''
    req.setEncoding('utf8').on('data', (chunk: string) => { body += chunk }).on('end', () => {
      if (path.includes('/slow')) { setTimeout(() => { if (!res.destroyed) res.end('{}') }, 2000); return }
      const broken = /\/broken\?length=(\d+)/.exec(path)
      if (broken !== null) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': broken[1] })
        res.write('{"partial":')
        setTimeout(() => res.destroy(), 20)
        return
      }
      const sized = /\/sized\?length=(\d+)/.exec(path)
      if (sized !== null) {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': sized[1] })
        res.end('x'.repeat(Number(sized[1])))
        return
      }
      if (path.endsWith('/chunked')) {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.write('first,')
        setTimeout(() => res.end('second'), 20)
        return
      }
      const seen: Seen = { upstream: name, method: req.method ?? '', url: path, headers: req.headers, body }
      const text = JSON.stringify(seen)
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-upstream': name })
      res.end(req.method === 'HEAD' ? undefined : text)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, server }
}

const auth = await startUpstream('auth')
const mood = await startUpstream('mood')
const twitter = await startUpstream('twitter-ingest')
const config = loadGatewayConfig({
  REDIS_URL: infra.redisUrl,
  REDIS_PREFIX: prefix,
  IDENTITY_SECRET,
  SESSION_SECRET,
  IDENTITY_TTL_S: String(IDENTITY_TTL_S),
  UPSTREAM_TIMEOUT_MS: '300',
  BODY_LIMIT_BYTES: String(BODY_LIMIT),
  PUBLIC_URL: 'https://pulse.example:8443',
  AUTH_URL: auth.url,
  MOOD_URL: mood.url,
  // a host name that does not resolve, and a port where nothing listens
  CONTACT_URL: 'http://pulse-upstream.invalid:80',
  TWITCH_INGEST_URL: `http://127.0.0.1:${await freePort()}`,
  TWITTER_INGEST_URL: twitter.url,
  LOG_LEVEL: 'silent'
})

const app: FastifyInstance = Fastify({ bodyLimit: 10 * BODY_LIMIT })
await app.register(fp(async (instance) => { instance.decorate('redis', redis as never) }, { name: 'pulse-redis' }))
await app.register(sessionsPlugin, { config })
await app.register(proxyRoutes, { config })
await app.listen({ port: 0, host: '127.0.0.1' })
const gatewayPort = (app.server.address() as net.AddressInfo).port
t.teardown(async () => {
  await app.close()
  for (const upstream of [auth, mood, twitter]) upstream.server.close()
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)))
  redis.disconnect()
})

const cookieOf = (sessionId: string) => `__Host-pulse_session=${encodeURIComponent(new Signer([SESSION_SECRET], 'sha256').sign(sessionId))}`
const login = async (sessionId: string, user: { userId: string, role: string, timezone: string }) => {
  await redis.set(sessionKey(sessionId), JSON.stringify({ ...user, createdAt: Date.now() }), 'EX', 600)
  return cookieOf(sessionId)
}
const seen = async (url: string, headers: Record<string, string> = {}, method: 'GET' | 'POST' | 'DELETE' = 'GET') => {
  const res = await app.inject({ method, url, headers })
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
  return res.json<Seen>()
}
const identityOf = (s: Seen) => verifyAssertion(s.headers[IDENTITY_HEADER] as string, [IDENTITY_SECRET], s.upstream)

t.test('each prefix goes to its service, path and query string unchanged', async (t) => {
  t.match(await seen('/auth/me?x=1'), { upstream: 'auth', url: '/auth/me?x=1' })
  t.match(await seen('/mood/entries/7?tag=a&tag=b'), { upstream: 'mood', url: '/mood/entries/7?tag=a&tag=b' })
  t.match(await seen('/twitter/overview'), { upstream: 'twitter-ingest', url: '/twitter/overview' })
  t.equal((await app.inject({ url: '/elsewhere' })).statusCode, 404, 'nothing else is proxied')
})

t.test('a service gets the gateway\'s own request id, address and identity, never the client\'s', async (t) => {
  const claims = {
    'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http', 'x-forwarded-port': '1',
    'x-pulse-identity': 'v1.forged.forged', 'x-pulse-anything': 'x', 'x-user-id': 'admin', 'x-userid': 'admin', forwarded: 'for=6.6.6.6',
    'x-real-ip': '6.6.6.6', 'x-request-id': 'client-chosen', 'x-kept': 'yes', 'x-forwarded': 'kept too', 'x-pulsed': 'and this',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'evil=1', baggage: 'role=admin'
  }
  const res = await app.inject({ url: '/mood/whoami', headers: claims })
  const s = res.json<Seen>()
  t.match(s.headers['x-request-id'], /^req-/, 'Fastify\'s request id, not the client\'s')
  t.equal(s.headers['x-forwarded-for'], '127.0.0.1')
  t.equal(s.headers['x-forwarded-proto'], 'https', 'from PUBLIC_URL')
  t.equal(s.headers['x-forwarded-host'], 'pulse.example:8443', 'from PUBLIC_URL')
  for (const name of ['x-forwarded-port', 'x-pulse-anything', 'x-user-id', 'x-userid', 'forwarded', 'x-real-ip', 'traceparent', 'tracestate', 'baggage']) {
    t.equal(s.headers[name], undefined, `${name} is dropped`)
  }
  t.equal(s.headers['x-kept'], 'yes')
  t.equal(s.headers['x-forwarded'], 'kept too', 'only x-forwarded-* is the gateway\'s')
  t.equal(s.headers['x-pulsed'], 'and this', 'only x-pulse-* is the gateway\'s')
  t.match(identityOf(s), { ok: true, assertion: { user: null, clientIp: '127.0.0.1', audience: 'mood' } })
})

t.test('hop-by-hop headers stay on their hop', async (t) => {
  const hop = { 'keep-alive': 'timeout=5', 'proxy-connection': 'keep-alive', 'proxy-authorization': 'Basic c2VjcmV0', te: 'trailers', trailer: 'x-t', upgrade: 'websocket', expect: 'x-none', 'x-end-to-end': 'yes' }
  const s = await seen('/mood/hop', hop)
  for (const name of Object.keys(hop).filter((n) => n !== 'x-end-to-end')) t.equal(s.headers[name], undefined, `${name} is not forwarded`)
  t.equal(s.headers['x-end-to-end'], 'yes')
})

t.test('only auth sees cookies', async (t) => {
  const cookie = 'theme=dark; other=1'
  t.equal((await seen('/auth/me', { cookie })).headers.cookie, cookie)
  t.equal((await seen('/mood/x', { cookie })).headers.cookie, undefined)
  t.equal((await seen('/twitter/x', { cookie })).headers.cookie, undefined)
})

t.test('a logged-in user is asserted to each service with that service as audience', async (t) => {
  const user = { userId: 'u-ada', role: 'admin', timezone: 'Europe/Paris' }
  const cookie = await login('s-ada', user)
  const toMood = await seen('/mood/me', { cookie })
  const toAuth = await seen('/auth/me', { cookie })
  t.match(identityOf(toMood), { ok: true, assertion: { user, clientIp: '127.0.0.1', audience: 'mood' } })
  t.match(identityOf(toAuth), { ok: true, assertion: { user, audience: 'auth' } })
  t.not(toMood.headers[IDENTITY_HEADER], toAuth.headers[IDENTITY_HEADER])
  const ttl = identityOf(toMood).ok ? (identityOf(toMood) as { expiresAt: number }).expiresAt - Date.now() : 0
  t.ok(ttl > (IDENTITY_TTL_S - 2) * 1000 && ttl <= (IDENTITY_TTL_S + 5) * 1000, `signed for IDENTITY_TTL_S (${ttl} ms left with the skew)`)
})

t.test('an assertion is reused for a third of its lifetime, per user and address', async (t) => {
  const cookie = await login('s-reuse', { userId: 'u-reuse', role: 'user', timezone: 'UTC' })
  const first = (await seen('/mood/a', { cookie })).headers[IDENTITY_HEADER]
  const firstAt = Date.now()
  // Wait for the clock to enter the next second: a new assertion would now carry another iat.
  await eventually(() => Math.floor(Date.now() / 1000) > Math.floor(firstAt / 1000), 2000, 5)
  const again = (await seen('/mood/b', { cookie })).headers[IDENTITY_HEADER]
  if (Date.now() - firstAt < (IDENTITY_TTL_S * 1000) / 3) t.equal(again, first, 'reused within a third of the lifetime')
  const anonymous = (await seen('/mood/c')).headers[IDENTITY_HEADER]
  t.not(anonymous, first)
  const other = await login('s-reuse-2', { userId: 'u-reuse', role: 'user', timezone: 'Asia/Tokyo' })
  t.match(identityOf(await seen('/mood/d', { cookie: other })), { assertion: { user: { timezone: 'Asia/Tokyo' } } }, 'a changed profile is asserted at once')
  const renewed = await eventually(async () => (await seen('/mood/e', { cookie })).headers[IDENTITY_HEADER] !== first, (IDENTITY_TTL_S * 1000) / 3 + 2000)
  t.ok(renewed, 'renewed after a third of the lifetime')
})

t.test('answers come back whole with the service\'s status and headers, whatever their size or shape', async (t) => {
  const small = await app.inject({ url: '/mood/sized?length=10' })
  t.equal(small.body, 'x'.repeat(10))
  t.equal(small.headers['content-length'], '10')
  const big = await app.inject({ url: `/mood/sized?length=${BUFFERED_LIMIT * 3}` })
  t.equal(big.body.length, BUFFERED_LIMIT * 3)
  const chunked = await app.inject({ url: '/mood/chunked' })
  t.equal(chunked.body, 'first,second')
  const head = await app.inject({ method: 'HEAD', url: '/mood/head' })
  t.equal(head.statusCode, 200)
  t.equal(head.headers['x-upstream'], 'mood')
  t.equal(head.body, '')
})

t.test('an answer of known length cut short is a 502 when buffered, and is never passed on as complete', async (t) => {
  for (const length of [1000, BUFFERED_LIMIT]) {
    const res = await app.inject({ url: `/mood/broken?length=${length}` })
    t.equal(res.statusCode, 502, `length ${length}`)
    t.equal(res.json().code, 'GATEWAY_BAD_GATEWAY')
  }
  // Above the buffered size the answer is streamed: its status has gone out, and the client sees
  // the connection end early.
  const streamed = await new Promise<{ status: number, complete: boolean }>((resolve) => {
    http.get({ host: '127.0.0.1', port: gatewayPort, path: `/mood/broken?length=${BUFFERED_LIMIT + 1}` }, (res) => {
      res.on('data', () => {})
      res.on('end', () => resolve({ status: res.statusCode ?? 0, complete: res.complete }))
      res.on('error', () => resolve({ status: res.statusCode ?? 0, complete: false }))
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, complete: false }))
    })
  })
  t.same(streamed, { status: 200, complete: false })
})

t.test('each way a service can fail has its own answer, in the error shape', async (t) => {
  const refused = await app.inject({ url: '/twitch/overview' })
  t.equal(refused.statusCode, 503, 'a service that refuses connections')
  t.equal(refused.json().code, 'GATEWAY_UPSTREAM_UNAVAILABLE')
  t.match(refused.json().message, /twitch-ingest/)
  t.equal(refused.headers['retry-after'], '5')
  const unresolved = await app.inject({ url: '/contact' })
  t.equal(unresolved.statusCode, 503, 'a service whose name does not resolve')
  t.equal(unresolved.headers['retry-after'], '5')
  t.match(unresolved.json().message, /contact/)
  const reset = await app.inject({ url: '/mood/reset' })
  t.equal(reset.statusCode, 503, 'a connection closed before the answer')
  t.equal(reset.headers['retry-after'], '5')
  const slow = await app.inject({ url: '/mood/slow' })
  t.equal(slow.statusCode, 504, 'a service slower than UPSTREAM_TIMEOUT_MS')
  t.equal(slow.json().code, 'GATEWAY_UPSTREAM_TIMEOUT')
  t.match(slow.json().message, /mood/)
  t.equal(slow.headers['retry-after'], undefined)
  const garbage = await app.inject({ url: '/mood/garbage' })
  t.equal(garbage.statusCode, 502, 'an answer that is not HTTP')
  t.equal(garbage.json().code, 'GATEWAY_BAD_GATEWAY')
  t.match(garbage.json().message, /mood/)
  t.equal(garbage.headers['retry-after'], undefined)
})

t.test('a body without a length is counted as it streams: over BODY_LIMIT_BYTES it is refused with 413', async (t) => {
  /** A chunked POST over real HTTP (no content-length), in two chunks. */
  const post = (size: number) => new Promise<{ status: number, json: Record<string, any> }>((resolve, reject) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const req = http.request({ host: '127.0.0.1', port: gatewayPort, method: 'POST', path: '/mood/echo', headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (c: string) => { text += c }).on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.write(Buffer.alloc(Math.floor(size / 2), 'a'))
    req.end(Buffer.alloc(size - Math.floor(size / 2), 'b'))
  })
  const whole = await post(BODY_LIMIT)
  t.equal(whole.status, 200)
  t.equal(whole.json.body.length, BODY_LIMIT, 'exactly the limit goes through whole')
  const over = await post(BODY_LIMIT + 1)
  t.equal(over.status, 413)
  t.equal(over.json.code, 'GATEWAY_PAYLOAD_TOO_LARGE')
  const withLength = await app.inject({ method: 'POST', url: '/mood/echo', headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(BODY_LIMIT + 2, 'c') })
  t.equal(withLength.statusCode, 200, 'one with a length is not counted here (the gateway refuses it before, by its length)')
  t.equal(withLength.json().body.length, BODY_LIMIT + 2)
})

t.test('a logout forgets the session at once; nothing else does', async (t) => {
  const cookie = await login('s-out', { userId: 'u-out', role: 'user', timezone: 'UTC' })
  await seen('/mood/me', { cookie })
  t.ok(app.sessions.cached('s-out') !== undefined, 'cached')
  await seen('/auth/logout', { cookie })
  await seen('/mood/logout', { cookie }, 'POST')
  t.ok(app.sessions.cached('s-out') !== undefined, 'a GET of the logout path, or a POST elsewhere, keeps it')
  await seen('/auth/logout', { cookie }, 'POST')
  t.equal(app.sessions.cached('s-out'), undefined, 'a POST of /auth/logout drops it')
  await seen('/auth/logout?next=/', { cookie: await login('s-out-2', { userId: 'u-out', role: 'user', timezone: 'UTC' }) }, 'POST')
  t.equal(app.sessions.cached('s-out-2'), undefined, 'with a query string too')
  await seen('/auth/logout', {}, 'POST')
})

t.test('every upstream of the table, with metrics on: each prefix reaches its service, only auth gets cookies, and each answer is timed by upstream and status class', async (t) => {
  const names = ['auth', 'mood', 'contact', 'notify', 'twitch-ingest', 'twitter-ingest'] as const
  const started = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await startUpstream(name)] as const)))
  t.teardown(() => { for (const upstream of Object.values(started)) upstream.server.close() })
  const everyUpstream = loadGatewayConfig({
    REDIS_URL: infra.redisUrl,
    REDIS_PREFIX: prefix,
    IDENTITY_SECRET,
    SESSION_SECRET,
    PUBLIC_URL: 'https://pulse.example:8443',
    AUTH_URL: started.auth!.url,
    MOOD_URL: started.mood!.url,
    CONTACT_URL: started.contact!.url,
    NOTIFY_URL: started.notify!.url,
    TWITCH_INGEST_URL: started['twitch-ingest']!.url,
    TWITTER_INGEST_URL: started['twitter-ingest']!.url,
    LOG_LEVEL: 'silent'
  })
  const metrics = createServiceMetrics('gateway')
  const full = Fastify()
  await full.register(fp(async (instance) => {
    instance.decorate('redis', redis as never)
    instance.decorate('metrics', metrics as never)
  }, { name: 'pulse-redis' }))
  await full.register(sessionsPlugin, { config: everyUpstream })
  await full.register(proxyRoutes, { config: everyUpstream })
  await full.ready()
  t.teardown(async () => { await full.close() })
  const cookie = await login('every-upstream', { userId: 'u-every', role: 'user', timezone: 'UTC' })

  const routes: Array<[string, typeof names[number]]> = [
    ['/auth/me', 'auth'], ['/mood/entries', 'mood'], ['/contact/inbox', 'contact'], ['/notify/settings', 'notify'],
    ['/twitch/overview', 'twitch-ingest'], ['/webhooks/twitch', 'twitch-ingest'], ['/twitter/overview', 'twitter-ingest']
  ]
  for (const [path, upstream] of routes) {
    const res = await full.inject({ method: 'POST', url: path, headers: { cookie: `${cookie}; theme=dark`, 'content-type': 'application/json' }, payload: '{}' })
    t.equal(res.statusCode, 200, path)
    const s = res.json<Seen>()
    t.equal(s.upstream, upstream, `${path} goes to ${upstream}`)
    t.equal(s.url, path, 'with its path unchanged')
    if (upstream === 'auth') t.match(s.headers.cookie, /__Host-pulse_session=.*theme=dark/, 'auth gets the cookies')
    else t.equal(s.headers.cookie, undefined, `${upstream} gets no cookie`)
  }
  t.equal((await full.inject({ url: '/mood/reset' })).statusCode, 503, 'an upstream that hangs up before answering')

  const text = await metrics.registry.metrics()
  const sample = (name: string, upstream: string, statusClass: string) =>
    Number(new RegExp(`^${name}\\{[^}]*upstream="${upstream}",status_class="${statusClass}"[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
  for (const upstream of names) {
    const expected = upstream === 'twitch-ingest' ? 2 : 1
    t.equal(sample('gateway_upstream_request_duration_seconds_count', upstream, '2xx'), expected, `${upstream}: ${expected} answer(s) timed as 2xx`)
    const seconds = sample('gateway_upstream_request_duration_seconds_sum', upstream, '2xx')
    t.ok(seconds > 0 && seconds < 5 * expected, `${upstream}: timed in seconds (${seconds})`)
  }
  t.equal(sample('gateway_upstream_request_duration_seconds_count', 'mood', 'error'), 1, 'no answer is counted as an error')
})
