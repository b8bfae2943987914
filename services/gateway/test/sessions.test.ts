import { sessionKey } from '@pulse/service-kit'
import t from 'tap'
import { Browser, startStack } from './helper.js'

const sessionIdOf = (cookieValue: string) => decodeURIComponent(cookieValue).split('.')[0]!

t.test('a user registers, logs in twice, logs out: every step through the gateway', async (t) => {
  const stack = await startStack(t)
  const browser = new Browser(stack.gatewayUrl)
  const reg = await browser.fetch('/auth/register', { method: 'POST', body: { username: 'walker', password: 'a fine password' } })
  t.equal(reg.status, 201)
  const me = await browser.fetch('/auth/me')
  t.equal(me.status, 200, 'the session works through the gateway')
  t.equal(me.json.user.username, 'walker')

  const first = browser.cookie('pulse_session')!
  await browser.fetch('/auth/login', { method: 'POST', body: { username: 'walker', password: 'a fine password' } })
  const second = browser.cookie('pulse_session')!
  t.not(sessionIdOf(second), sessionIdOf(first), 'a new session id at login')
  t.equal(await stack.redis.exists(sessionKey(sessionIdOf(first))), 0, 'the first session is gone from Redis')

  const old = new Browser(stack.gatewayUrl)
  old.setCookie('pulse_session', first)
  t.equal((await old.fetch('/auth/me')).status, 401, 'the replaced session no longer works')

  const replay = new Browser(stack.gatewayUrl)
  replay.setCookie('pulse_session', second)
  t.equal((await replay.fetch('/auth/me')).status, 200, 'a copy of the cookie works before logout')
  const out = await browser.fetch('/auth/logout', { method: 'POST' })
  t.equal(out.status, 204)
  t.equal(await stack.redis.exists(sessionKey(sessionIdOf(second))), 0, 'gone from Redis')
  const replayed = await replay.fetch('/auth/me')
  t.equal(replayed.status, 401, 'replaying the old cookie after logout gets 401')
  t.equal(replayed.json.code, 'AUTH_UNAUTHENTICATED')
})

t.test('anonymous traffic leaves no session keys in Redis', async (t) => {
  const stack = await startStack(t)
  const browser = new Browser(stack.gatewayUrl)
  await browser.fetch('/health')
  await browser.fetch('/mood/public')
  await browser.fetch('/auth/me')
  await browser.fetch('/auth/login', { method: 'POST', body: { username: 'nobody', password: 'wrong password' } })
  await browser.fetch('/docs/json')
  t.same(await stack.redis.keys(`${stack.redisPrefix}session:*`), [])
})

t.test('every Set-Cookie of the session carries the flags, over http and https', async (t) => {
  for (const publicUrl of ['http://127.0.0.1:3000', 'https://pulse.example']) {
    const stack = await startStack(t, { gatewayEnv: { PUBLIC_URL: publicUrl } })
    const https = publicUrl.startsWith('https')
    const name = https ? '__Host-pulse_session' : 'pulse_session'
    const browser = new Browser(stack.gatewayUrl)
    const res = await fetch(`${stack.gatewayUrl}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'flags', password: 'a fine password' }) })
    const cookies = res.headers.getSetCookie()
    t.equal(cookies.length, 1)
    for (const cookie of cookies) {
      t.match(cookie, new RegExp(`^${name}=`), `${publicUrl}: ${name}`)
      t.match(cookie, /; HttpOnly/i)
      t.match(cookie, /; SameSite=Lax/i)
      t.match(cookie, /; Path=\//)
      if (https) t.match(cookie, /; Secure/i)
      else t.notMatch(cookie, /; Secure/i)
    }
    browser.setCookie(name, cookies[0]!.split(';')[0]!.split('=')[1]!)
    t.equal((await browser.fetch('/auth/me')).status, 200, `${publicUrl}: the cookie resolves at the gateway`)
    const out = await fetch(`${stack.gatewayUrl}/auth/logout`, { method: 'POST', headers: { cookie: `${name}=${browser.cookie(name)}` } })
    const cleared = out.headers.getSetCookie()[0]!
    t.match(cleared, new RegExp(`^${name}=;`))
    t.match(cleared, /Expires=Thu, 01 Jan 1970/)
    if (https) t.match(cleared, /; Secure/i)
  }
})

t.test('a cookie with a forged signature is anonymous', async (t) => {
  const stack = await startStack(t)
  const browser = new Browser(stack.gatewayUrl)
  await browser.fetch('/auth/register', { method: 'POST', body: { username: 'forger', password: 'a fine password' } })
  const [id] = decodeURIComponent(browser.cookie('pulse_session')!).split('.')
  const forged = new Browser(stack.gatewayUrl)
  forged.setCookie('pulse_session', encodeURIComponent(`${id}.bm90IHRoZSBzaWduYXR1cmU`))
  t.equal((await forged.fetch('/auth/me')).status, 401)
})

t.test('a session ends after its absolute lifetime even when used', async (t) => {
  const stack = await startStack(t, { gatewayEnv: { SESSION_CACHE_MS: '0' } })
  const browser = new Browser(stack.gatewayUrl)
  await browser.fetch('/auth/register', { method: 'POST', body: { username: 'old', password: 'a fine password' } })
  const id = sessionIdOf(browser.cookie('pulse_session')!)
  const record = JSON.parse((await stack.redis.get(sessionKey(id)))!)
  await stack.redis.set(sessionKey(id), JSON.stringify({ ...record, createdAt: Date.now() - 31 * 24 * 3600 * 1000 }), 'KEEPTTL')
  t.equal((await browser.fetch('/auth/me')).status, 401)
  t.equal(await stack.redis.exists(sessionKey(id)), 0, 'and is deleted')
})

t.test('Redis down: a request with a session fails fast with 503, never lets anyone in', async (t) => {
  const { TcpProxy, eventually, testInfra } = await import('@pulse/testing')
  const proxy = await TcpProxy.start((await testInfra()).redisUrl)
  t.teardown(() => proxy.stop())
  const stack = await startStack(t, { gatewayEnv: { REDIS_URL: proxy.url((await testInfra()).redisUrl), SESSION_CACHE_MS: '0' } })
  const browser = new Browser(stack.gatewayUrl)
  await browser.fetch('/auth/register', { method: 'POST', body: { username: 'redisless', password: 'a fine password' } })
  await proxy.cut()
  const res = await browser.fetch('/mood/whoami', { headers: { 'x-request-id': 'redis-down-1' } })
  t.equal(res.status, 503)
  t.equal(res.json.code, 'GATEWAY_SESSION_UNAVAILABLE')
  t.equal(res.headers.get('x-request-id'), 'redis-down-1')
  t.equal((await browser.fetch('/health')).status, 200)
  t.equal((await browser.fetch('/ready')).status, 503, 'not ready without Redis')
  await proxy.restore()
  t.ok(await eventually(async () => (await browser.fetch('/mood/whoami')).status === 200, 5000, 100), 'recovers without a restart')
})

t.test('Redis stops answering but keeps its connection: 503 within the command timeout, anonymous traffic unblocked, recovery without a restart', async (t) => {
  const { TcpProxy, eventually, testInfra } = await import('@pulse/testing')
  const { redisUrl } = await testInfra()
  const proxy = await TcpProxy.start(redisUrl)
  t.teardown(() => proxy.stop())
  const commandTimeoutMs = 300
  const stack = await startStack(t, {
    gatewayEnv: { REDIS_URL: proxy.url(redisUrl), SESSION_CACHE_MS: '0', REDIS_COMMAND_TIMEOUT_MS: String(commandTimeoutMs), RATE_LIMIT_SYNC_MS: '20' }
  })
  const browser = new Browser(stack.gatewayUrl)
  t.equal((await browser.fetch('/auth/register', { method: 'POST', body: { username: 'stalled', password: 'a fine password' } })).status, 201)
  t.equal((await browser.fetch('/mood/whoami')).status, 200)

  proxy.stall()
  // A bound from the setting plus a margin for a loaded machine; without the timeout these wait forever.
  const bound = commandTimeoutMs + 3000
  const timed = async (fetching: Promise<Awaited<ReturnType<Browser['fetch']>>>) => {
    const start = Date.now()
    const res = await Promise.race([fetching, new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('the request hangs')), 20_000).unref())])
    return { res, ms: Date.now() - start }
  }
  for (let i = 0; i < 3; i++) {
    const { res, ms } = await timed(browser.fetch('/mood/whoami'))
    t.equal(res.status, 503, 'nobody is let in without the session store')
    t.match(res.json, { statusCode: 503, error: 'Service Unavailable', code: 'GATEWAY_SESSION_UNAVAILABLE' })
    t.ok(ms < bound, `answered in ${ms} ms, within the command timeout plus a margin`)
  }
  // The rate-limit sync to Redis times out in the background; anonymous requests never wait for it.
  const anonymous = new Browser(stack.gatewayUrl)
  for (let i = 0; i < 5; i++) {
    const { res, ms } = await timed(anonymous.fetch('/mood/public'))
    t.equal(res.status, 200, 'public routes keep working')
    t.ok(ms < bound, `answered in ${ms} ms`)
  }
  const ready = await timed(browser.fetch('/ready'))
  t.equal(ready.res.status, 503, 'not ready while Redis does not answer')

  proxy.resume()
  t.ok(await eventually(async () => (await browser.fetch('/mood/whoami')).status === 200, 15_000), 'the same session works again without a restart')
  t.equal((await browser.fetch('/ready')).status, 200)
})
