import type { InjectOptions } from 'fastify'
import { TcpProxy, eventually, testInfra } from '@pulse/testing'
import t from 'tap'
import { build, cookieHeader } from './helper.js'

t.test('Redis stops answering without closing its connection: logins and sessions answer 503 within the command timeout, and work again without a restart', async (t) => {
  const { redisUrl } = await testInfra()
  const proxy = await TcpProxy.start(redisUrl)
  t.teardown(() => proxy.stop())
  const commandTimeoutMs = 300
  const auth = await build(t, { REDIS_URL: proxy.url(redisUrl), REDIS_COMMAND_TIMEOUT_MS: String(commandTimeoutMs) })
  const credentials = { username: 'stalled', password: 'correct horse battery' }
  const registered = await auth.app.inject({ method: 'POST', url: '/auth/register', headers: auth.from('10.0.0.7'), payload: credentials })
  t.equal(registered.statusCode, 201)
  const cookie = cookieHeader(registered)

  proxy.stall()
  // A bound from the setting plus a margin for a loaded machine (and one argon2 hash); without the
  // timeout these requests would wait as long as Redis does.
  const bound = commandTimeoutMs + 5000
  const timed = async (request: InjectOptions) => {
    const start = Date.now()
    const res = await Promise.race([auth.app.inject(request), new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('the request hangs')), 30_000).unref())])
    return { res, ms: Date.now() - start }
  }
  const login = await timed({ method: 'POST', url: '/auth/login', headers: auth.from('10.0.0.7'), payload: credentials })
  t.equal(login.res.statusCode, 503, 'a login is refused, not held')
  t.match(login.res.json(), { statusCode: 503, error: 'Service Unavailable', code: 'AUTH_UNAVAILABLE' })
  t.ok(login.ms < bound, `answered in ${login.ms} ms, within the command timeout plus a margin`)
  const logout = await timed({ method: 'POST', url: '/auth/logout', headers: { ...auth.from('10.0.0.7'), cookie } })
  t.equal(logout.res.statusCode, 503, 'a logout (the session store) too')
  t.equal(logout.res.json().code, 'AUTH_UNAVAILABLE')
  t.ok(logout.ms < bound, `answered in ${logout.ms} ms`)

  proxy.resume()
  t.ok(await eventually(async () => (await auth.app.inject({ method: 'POST', url: '/auth/login', headers: auth.from('10.0.0.8'), payload: credentials })).statusCode === 200, 15_000),
    'logins work again on the same connection')
})
