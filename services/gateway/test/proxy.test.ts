import http from 'node:http'
import { Validator } from '@seriousme/openapi-schema-validator'
import { IDENTITY_HEADER, signIdentity } from '@pulse/service-kit'
import t from 'tap'
import { Browser, IDENTITY_SECRET, startStack } from './helper.js'

t.test('client claims of identity and address are replaced by the gateway', async (t) => {
  const stack = await startStack(t)
  const browser = new Browser(stack.gatewayUrl)
  const reg = await browser.fetch('/auth/register', { method: 'POST', body: { username: 'honest', password: 'a fine password', timezone: 'Asia/Tokyo' } })
  const victimId = '00000000-0000-4000-8000-000000000001'
  const forged = signIdentity({ userId: victimId, role: 'admin', timezone: 'UTC', requestId: 'x', audience: 'mood' }, 'a-secret-the-attacker-guessed-000000000')
  const spoof = { 'x-user-id': victimId, [IDENTITY_HEADER]: forged, 'x-forwarded-for': '192.0.2.55', 'x-forwarded-proto': 'https', 'x-real-ip': '192.0.2.56', forwarded: 'for=192.0.2.57' }

  const res = await browser.fetch('/mood/whoami', { headers: spoof })
  t.equal(res.status, 200)
  t.same(res.json.identity, { userId: reg.json.user.id, role: 'user', timezone: 'Asia/Tokyo', requestId: res.headers.get('x-request-id') }, 'the session decides who you are')
  t.equal(res.json.clientIp, '127.0.0.1', 'the socket decides where you are')
  t.equal(res.json.headers['x-user-id'], undefined)
  t.equal(res.json.headers['x-real-ip'], undefined)
  t.equal(res.json.headers.forwarded, undefined)
  t.equal(res.json.headers['x-forwarded-for'], '127.0.0.1')
  t.equal(res.json.headers['x-forwarded-proto'], 'http', 'from PUBLIC_URL, not the client')
  t.equal(res.json.headers.cookie, undefined, 'services never see cookies')

  const anonymous = await new Browser(stack.gatewayUrl).fetch('/mood/whoami', { headers: spoof })
  t.equal(anonymous.status, 401, 'a forged assertion from a client does not log anyone in')
  const pub = await new Browser(stack.gatewayUrl).fetch('/mood/public', { headers: spoof })
  t.equal(pub.json.identity, null)
  t.equal(pub.json.clientIp, '127.0.0.1')
})

t.test('a request straight to a service with a forged or missing assertion gets 401', async (t) => {
  const stack = await startStack(t)
  const echoUrl = `http://127.0.0.1:${(stack.echo.server.address() as { port: number }).port}`
  const forged = signIdentity({ userId: 'u', role: 'admin', timezone: 'UTC', requestId: 'x', audience: 'mood' }, 'not-the-real-identity-secret-000000000')
  t.equal((await fetch(`${echoUrl}/mood/whoami`, { headers: { [IDENTITY_HEADER]: forged } })).status, 401)
  t.equal((await fetch(`${echoUrl}/mood/whoami`, { headers: { 'x-user-id': 'u' } })).status, 401)
  const genuine = signIdentity({ userId: 'u', role: 'user', timezone: 'UTC', requestId: 'x', audience: 'mood' }, IDENTITY_SECRET)
  t.equal((await fetch(`${echoUrl}/mood/whoami`, { headers: { [IDENTITY_HEADER]: genuine } })).status, 200, 'only the shared secret signs')
})

t.test('request ids are accepted or created, forwarded and returned, errors included', async (t) => {
  const stack = await startStack(t)
  const browser = new Browser(stack.gatewayUrl)
  const given = await browser.fetch('/mood/public', { headers: { 'x-request-id': 'client-chosen-id' } })
  t.equal(given.headers.get('x-request-id'), 'client-chosen-id')
  t.equal(given.json.headers['x-request-id'], 'client-chosen-id', 'forwarded to the service')
  const made = await browser.fetch('/mood/public')
  t.match(made.headers.get('x-request-id'), /^[0-9a-f-]{36}$/)
  t.equal(made.json.headers['x-request-id'], made.headers.get('x-request-id'))
  const missing = await browser.fetch('/nowhere', { headers: { 'x-request-id': 'lost-1' } })
  t.equal(missing.status, 404)
  t.equal(missing.headers.get('x-request-id'), 'lost-1')
  t.same(missing.json, { statusCode: 404, error: 'Not Found', message: 'Route GET /nowhere not found', code: 'GATEWAY_NOT_FOUND' })
})

t.test('an upstream that is down answers 503, one slower than the timeout 504, in the error shape', async (t) => {
  const stack = await startStack(t, { gatewayEnv: { UPSTREAM_TIMEOUT_MS: '300' } })
  const browser = new Browser(stack.gatewayUrl)
  const down = await browser.fetch('/contact', { method: 'POST', body: { name: 'x' }, headers: { 'x-request-id': 'down-1' } })
  t.equal(down.status, 503)
  t.same(down.json, { statusCode: 503, error: 'Service Unavailable', message: 'The contact service is unavailable; retry shortly', code: 'GATEWAY_UPSTREAM_UNAVAILABLE' })
  t.equal(down.headers.get('x-request-id'), 'down-1')
  t.equal(down.headers.get('content-type'), 'application/json; charset=utf-8')
  const getDown = await browser.fetch('/twitch/overview')
  t.equal(getDown.status, 503, 'a GET is not retried into a hang')

  const slow = await browser.fetch('/mood/slow?ms=2000', { headers: { 'x-request-id': 'slow-1' } })
  t.equal(slow.status, 504)
  t.equal(slow.json.code, 'GATEWAY_UPSTREAM_TIMEOUT')
  t.equal(slow.headers.get('x-request-id'), 'slow-1')
  t.equal((await browser.fetch('/mood/slow?ms=10')).status, 200, 'a fast answer still passes')
})

t.test('answers arrive whole whatever their shape; one cut short is never passed on as complete', async (t) => {
  const stack = await startStack(t)
  const browser = new Browser(stack.gatewayUrl)
  const small = await browser.fetch('/mood/public', { headers: { 'x-request-id': 'small-1' } })
  t.equal(small.status, 200)
  t.equal(small.headers.get('content-length'), String(Buffer.byteLength(JSON.stringify(small.json))), 'a small answer keeps its length')
  t.equal(small.headers.get('x-request-id'), 'small-1')
  const big = await browser.fetch('/mood/big')
  t.equal(big.json.items.length, 4000, 'an answer larger than the buffered limit is streamed whole')
  t.equal(big.json.items[3999].text, 'x'.repeat(40))
  const chunked = await fetch(`${stack.gatewayUrl}/mood/chunked`)
  t.equal(await chunked.text(), 'first,second', 'an answer without a length is streamed whole')
  const broken = await fetch(`${stack.gatewayUrl}/mood/broken`).then(async (res) => ({ status: res.status, body: await res.json() as { code: string } }), (error: Error) => ({ error }))
  if ('error' in broken) {
    t.pass('the client sees the connection fail, not a complete answer')
  } else {
    t.equal(broken.status, 502, 'an answer cut short is a 502')
    t.equal(broken.body.code, 'GATEWAY_BAD_GATEWAY')
  }
})

t.test('hop-by-hop headers stay on their hop; the query string and a chunked body go through whole', async (t) => {
  const stack = await startStack(t)
  const { port } = new URL(stack.gatewayUrl)
  const raw = async (method: string, path: string, headers: Record<string, string>, chunks: string[] = []) => new Promise<{ status: number, json: { url: string, headers: Record<string, string | undefined>, body: unknown } }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (c: string) => { text += c }).on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }))
    })
    req.on('error', reject)
    for (const chunk of chunks) req.write(chunk)
    req.end()
  })
  const hop = await raw('GET', '/mood/public?tag=a&tag=b&q=%20x', {
    connection: 'keep-alive, x-hop-secret', 'x-hop-secret': 'must not pass', 'keep-alive': 'timeout=5',
    te: 'trailers', 'proxy-authorization': 'Basic c2VjcmV0', 'x-kept': 'yes'
  })
  t.equal(hop.status, 200)
  t.equal(hop.json.url, '/mood/public?tag=a&tag=b&q=%20x', 'the query string goes through as the client wrote it')
  for (const name of ['x-hop-secret', 'keep-alive', 'te', 'proxy-authorization']) t.equal(hop.json.headers[name], undefined, `${name} is not forwarded`)
  t.equal(hop.json.headers['x-kept'], 'yes', 'end-to-end headers are')
  const strip = await raw('GET', '/mood/public', { connection: 'x-request-id, x-pulse-identity, x-forwarded-for' })
  t.ok(strip.json.headers['x-request-id'], 'a client cannot strip the headers the gateway adds')
  t.equal(strip.json.headers['x-forwarded-for'], '127.0.0.1')
  const chunked = await raw('POST', '/mood/echo', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, ['{"a":', '[1,2,', '3]}'])
  t.equal(chunked.status, 200)
  t.same(chunked.json.body, { a: [1, 2, 3] }, 'a chunked request body arrives whole')
})

t.test('rate limits per address and per user; X-Forwarded-For does not dodge them', async (t) => {
  const stack = await startStack(t, { gatewayEnv: { RATE_LIMIT_PER_ADDRESS: '5', RATE_LIMIT_PER_USER: '8' } })
  const anon = new Browser(stack.gatewayUrl)
  const statuses: number[] = []
  const remaining: (string | null)[] = []
  for (let i = 0; i < 7; i++) {
    const res = await anon.fetch('/mood/public', { headers: { 'x-forwarded-for': `198.51.100.${i}` } })
    statuses.push(res.status)
    remaining.push(res.headers.get('x-ratelimit-remaining'))
    t.equal(res.headers.get('x-ratelimit-limit'), '5')
  }
  t.same(statuses, [200, 200, 200, 200, 200, 429, 429])
  t.same(remaining, ['4', '3', '2', '1', '0', '0', '0'], 'clients see what is left of their budget')
  const limited = await anon.fetch('/mood/public')
  t.equal(limited.json.code, 'GATEWAY_RATE_LIMITED')
  t.ok(Number(limited.headers.get('retry-after')) > 0, 'retry-after is set')
  t.equal((await anon.fetch('/health')).status, 200, 'probes are never limited')
})

t.test('one budget for the whole API, shared by every gateway replica', async (t) => {
  const SYNC_MS = 20
  const stack = await startStack(t, { gatewayEnv: { RATE_LIMIT_PER_ADDRESS: '6', RATE_LIMIT_SYNC_MS: String(SYNC_MS) } })
  const replica = await stack.startReplica()
  const a = new Browser(stack.gatewayUrl)
  const b = new Browser(replica)
  const statuses: number[] = []
  for (let i = 0; i < 8; i++) {
    const browser = i % 2 === 0 ? a : b
    statuses.push((await browser.fetch(i % 4 < 2 ? '/mood/public' : '/mood/slow')).status)
    // A replica sees the other's counts only at its syncs, which nothing outside shows: three
    // RATE_LIMIT_SYNC_MS, so that both have added their counts to Redis and read the total back.
    await new Promise((resolve) => setTimeout(resolve, 3 * SYNC_MS))
  }
  t.same(statuses, [200, 200, 200, 200, 200, 200, 429, 429], 'six requests across two replicas and two routes use up one budget')
})

t.test('rate limits follow the user, not the address, once logged in', async (t) => {
  const stack = await startStack(t, { gatewayEnv: { RATE_LIMIT_PER_ADDRESS: '3', RATE_LIMIT_PER_USER: '6' } })
  const user = new Browser(stack.gatewayUrl)
  await user.fetch('/auth/register', { method: 'POST', body: { username: 'busy', password: 'a fine password' } })
  const statuses: number[] = []
  for (let i = 0; i < 7; i++) statuses.push((await user.fetch('/mood/whoami')).status)
  t.same(statuses, [200, 200, 200, 200, 200, 200, 429], 'the user budget, larger than the address one')
})

t.test('trusted proxies: only their X-Forwarded-For names the client', async (t) => {
  const stack = await startStack(t, { gatewayEnv: { TRUST_PROXY: '127.0.0.1' } })
  const res = await new Browser(stack.gatewayUrl).fetch('/mood/public', { headers: { 'x-forwarded-for': '203.0.113.7' } })
  t.equal(res.json.clientIp, '203.0.113.7')
})

t.test('body size limit, security headers and CORS', async (t) => {
  const stack = await startStack(t, { gatewayEnv: { BODY_LIMIT_BYTES: '2048', FRONTEND_URL: 'https://app.example' } })
  const browser = new Browser(stack.gatewayUrl)
  const big = await browser.fetch('/mood/echo', { method: 'POST', body: { text: 'x'.repeat(5000) } })
  t.equal(big.status, 413)
  t.equal(big.json.code, 'GATEWAY_PAYLOAD_TOO_LARGE')
  const small = await browser.fetch('/mood/echo', { method: 'POST', body: { text: 'hello' } })
  t.same(small.json, { body: { text: 'hello' } })
  const chunked = await new Promise<{ status: number, code: string }>((resolve, reject) => {
    const { port } = new URL(stack.gatewayUrl)
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/mood/echo', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (c: string) => { text += c }).on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(text) as { code: string }).code }))
    })
    req.on('error', reject)
    req.write('{"text":"')
    for (let i = 0; i < 5; i++) req.write('x'.repeat(1000))
    req.end('"}')
  })
  t.same(chunked, { status: 413, code: 'GATEWAY_PAYLOAD_TOO_LARGE' }, 'a chunked body is held to the same limit')

  t.equal(small.headers.get('x-content-type-options'), 'nosniff')
  t.ok(small.headers.get('strict-transport-security') !== null)
  t.ok(small.headers.get('content-security-policy') !== null)

  const preflight = await fetch(`${stack.gatewayUrl}/mood/echo`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } })
  t.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example')
  t.equal(preflight.headers.get('access-control-allow-credentials'), 'true')
  const foreign = await fetch(`${stack.gatewayUrl}/mood/public`, { headers: { origin: 'https://evil.example' } })
  t.equal(foreign.headers.get('access-control-allow-origin'), null, 'other origins get no CORS grant')
})

t.test('one OpenAPI 3 document for all services, valid, with the auth routes and the session cookie', async (t) => {
  const stack = await startStack(t)
  const res = await new Browser(stack.gatewayUrl).fetch('/docs/json')
  t.equal(res.status, 200)
  const doc = res.json
  const result = await new Validator().validate(structuredClone(doc) as Parameters<Validator["validate"]>[0])
  t.ok(result.valid, `valid OpenAPI 3: ${String(JSON.stringify(result.errors)).slice(0, 800)}`)
  t.match(doc.openapi, /^3\./)
  for (const path of ['/auth/register', '/auth/login', '/auth/logout', '/auth/me']) t.ok(doc.paths[path] !== undefined, `documents ${path}`)
  t.ok(doc.paths['/mood/whoami'] !== undefined, 'includes the other services')
  t.same(doc.components.securitySchemes.sessionCookie, { type: 'apiKey', in: 'cookie', name: 'pulse_session' })
  t.match(doc.info.description, /contact/, 'names the services that did not answer')
  const ui = await fetch(`${stack.gatewayUrl}/docs`, { redirect: 'follow' })
  t.equal(ui.status, 200)
  t.match(await ui.text(), /swagger/i)
})
