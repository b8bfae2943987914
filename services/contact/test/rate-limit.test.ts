import { randomUUID } from 'node:crypto'
import t from 'tap'
import { TcpProxy, testInfra } from '@pulse/testing'
import { build, countSubmissions, eventually, nextAddress, userHeader, validMessage, visitorHeader } from './helper.js'

const WINDOW_MS = 60_000

t.test('an address over its limit gets 429 with retry-after; others are unaffected', async (t) => {
  const { app, db } = await build(t, { env: { CONTACT_RATE_LIMIT_MAX: '3', CONTACT_RATE_LIMIT_WINDOW_MS: String(WINDOW_MS) } })
  const send = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/contact', headers, payload: validMessage() })
  const a = nextAddress()
  for (let i = 1; i <= 3; i++) t.equal((await send(visitorHeader(a))).statusCode, 202, `message ${i} of 3`)

  const limited = await send(visitorHeader(a))
  t.equal(limited.statusCode, 429)
  t.same(limited.json(), {
    statusCode: 429, error: 'Too Many Requests', code: 'CONTACT_RATE_LIMITED', message: limited.json().message
  })
  const retryAfter = Number(limited.headers['retry-after'])
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_MS / 1000, `retry-after is whole seconds within the window (${limited.headers['retry-after']})`)
  t.match(limited.json().message, new RegExp(`${retryAfter} seconds`))
  t.ok(limited.headers['x-request-id'], 'the refusal carries the request id')
  t.equal(await countSubmissions(db), 3, 'the refused message was not stored')

  t.equal((await send(visitorHeader(nextAddress()))).statusCode, 202, 'another address is unaffected')

  t.test('a spoofed client header changes nothing: only the gateway\'s assertion counts', async (t) => {
    const spoofedAway = await send({ ...visitorHeader(a), 'x-forwarded-for': nextAddress(), 'x-real-ip': nextAddress() })
    t.equal(spoofedAway.statusCode, 429, 'claiming another address does not escape the limit')
    const fresh = nextAddress()
    for (let i = 1; i <= 3; i++) {
      const res = await send({ ...visitorHeader(fresh), 'x-forwarded-for': a })
      t.equal(res.statusCode, 202, 'claiming the limited address does not get a fresh one limited')
    }
    const rows = await db.selectFrom('submissions').select('client_ip').where('client_ip', '=', fresh).execute()
    t.equal(rows.length, 3, 'the asserted address is the one stored')
  })

  t.test('logged-in senders are limited by address too', async (t) => {
    const res = await send(userHeader('user', randomUUID(), a))
    t.equal(res.statusCode, 429)
  })

  t.test('an IPv6 client counts with its /64; IPv4-mapped addresses are the IPv4 client', async (t) => {
    for (let i = 1; i <= 3; i++) t.equal((await send(visitorHeader(`2001:db8:a:b::${i}`))).statusCode, 202)
    t.equal((await send(visitorHeader('2001:db8:a:b:ffff:1:2:3'))).statusCode, 429, 'another address of the same /64')
    t.equal((await send(visitorHeader('2001:db8:a:c::1'))).statusCode, 202, 'another /64')
    t.equal((await send(visitorHeader(`::ffff:${a}`))).statusCode, 429, 'the limited IPv4 address, IPv4-mapped')
  })
})

t.test('the window ends and the address may write again', async (t) => {
  const { app } = await build(t, { env: { CONTACT_RATE_LIMIT_MAX: '1', CONTACT_RATE_LIMIT_WINDOW_MS: '1000' } })
  const headers = visitorHeader(nextAddress())
  const send = () => app.inject({ method: 'POST', url: '/contact', headers, payload: validMessage() })
  t.equal((await send()).statusCode, 202)
  const limited = await send()
  t.equal(limited.statusCode, 429)
  t.equal(limited.headers['retry-after'], '1')
  t.ok(await eventually(async () => (await send()).statusCode === 202, 5000), 'accepted again after the window')
})

t.test('with Redis unreachable messages are accepted unchecked, with a warning', async (t) => {
  const { redisUrl } = await testInfra()
  const proxy = await TcpProxy.start(redisUrl)
  t.teardown(() => proxy.stop())
  const { app, db, lines } = await build(t, {
    env: { REDIS_URL: proxy.url(redisUrl), CONTACT_RATE_LIMIT_MAX: '2', CONTACT_RATE_LIMIT_WINDOW_MS: String(WINDOW_MS) }
  })
  const address = nextAddress()
  const send = () => app.inject({ method: 'POST', url: '/contact', headers: visitorHeader(address), payload: validMessage() })
  t.equal((await send()).statusCode, 202, 'checked while Redis answers')

  await proxy.cut()
  const whileDown = []
  for (let i = 0; i < 4; i++) whileDown.push(await send())
  t.same(whileDown.map((r) => r.statusCode), [202, 202, 202, 202], 'accepted beyond the limit: the limiter fails open')
  t.equal(await countSubmissions(db), 5, 'every one of them is stored')
  t.ok(lines.some((l) => l.level === 40 && /rate limit not checked/.test(String(l.msg)) && typeof l.requestId === 'string'), 'a warning with the request id')
  const ready = await app.inject({ url: '/ready' })
  t.equal(ready.statusCode, 200, 'still ready: Redis is not needed to take messages')

  await proxy.restore()
  t.ok(await eventually(async () => (await send()).statusCode === 429, 10_000), 'the limit applies again once Redis is back')
})

t.test('with Redis answering nothing on an open connection, a message waits at most the limiter timeout and is accepted unchecked', async (t) => {
  const { redisUrl } = await testInfra()
  const proxy = await TcpProxy.start(redisUrl)
  t.teardown(() => proxy.stop())
  const timeoutMs = 200
  const { app, db } = await build(t, {
    env: { REDIS_URL: proxy.url(redisUrl), CONTACT_RATE_LIMIT_MAX: '1', CONTACT_RATE_LIMIT_WINDOW_MS: String(WINDOW_MS), CONTACT_RATE_LIMIT_TIMEOUT_MS: String(timeoutMs) }
  })
  const address = nextAddress()
  const send = () => app.inject({ method: 'POST', url: '/contact', headers: visitorHeader(address), payload: validMessage() })
  t.equal((await send()).statusCode, 202)

  proxy.stall()
  for (let i = 0; i < 3; i++) {
    const start = Date.now()
    const res = await Promise.race([send(), new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('the request hangs')), 20_000).unref())])
    const ms = Date.now() - start
    t.equal(res.statusCode, 202, 'accepted: the limiter fails open')
    t.ok(ms < timeoutMs + 3000, `answered in ${ms} ms, within the limiter timeout plus a margin`)
  }
  t.equal(await countSubmissions(db), 4, 'every one of them is stored')

  proxy.resume()
  t.ok(await eventually(async () => (await send()).statusCode === 429, 10_000), 'the limit applies again without a restart')
})

t.test('with Redis unreachable at start-up the service starts and takes messages', async (t) => {
  const { redisUrl } = await testInfra()
  const proxy = await TcpProxy.start(redisUrl)
  t.teardown(() => proxy.stop())
  await proxy.cut()
  const { app, db } = await build(t, { env: { REDIS_URL: proxy.url(redisUrl), CONTACT_RATE_LIMIT_MAX: '1' } })
  const headers = { ...visitorHeader(nextAddress()), 'idempotency-key': randomUUID() }
  const res = await app.inject({ method: 'POST', url: '/contact', headers, payload: validMessage() })
  t.equal(res.statusCode, 202)
  t.equal(await countSubmissions(db), 1)

  await proxy.restore()
  const other = visitorHeader(nextAddress())
  t.ok(await eventually(async () => {
    const r = await app.inject({ method: 'POST', url: '/contact', headers: other, payload: validMessage() })
    return r.statusCode === 429
  }, 10_000), 'the client reconnects in the background and the limit applies')
})
