import { Writable } from 'node:stream'
import t from 'tap'
import { IDENTITY_HEADER, signIdentity } from '../src/index.js'
import { createTestDatabase, TcpProxy, testInfra, type Teardown } from '@pulse/testing'
import { buildExample, loadExampleConfig } from './fixtures/example-service.js'

const SECRET = 'a-test-identity-secret-of-at-least-32-chars'

async function build (t: Teardown, env: Record<string, string> = {}) {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({ write (chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb() } })
  const databaseUrl = env.DATABASE_URL ?? await createTestDatabase(t)
  const config = loadExampleConfig({ IDENTITY_SECRET: SECRET, DATABASE_URL: databaseUrl, DATABASE_CONNECT_TIMEOUT_MS: '500', LOG_LEVEL: 'info', ...env })
  const app = await buildExample(config, { logger: { level: 'info', stream } })
  t.teardown(() => app.close())
  return { app, lines }
}

t.test('request ids', async (t) => {
  const { app, lines } = await build(t)

  t.test('a sent id is echoed and on the log lines', async (t) => {
    const res = await app.inject({ url: '/slow', headers: { 'x-request-id': 'req-abc-123' } })
    t.equal(res.statusCode, 200)
    t.equal(res.headers['x-request-id'], 'req-abc-123')
    const logged = lines.filter((l) => l.requestId === 'req-abc-123')
    t.ok(logged.length >= 2, 'request and response log lines carry the id')
  })

  t.test('query strings never reach the log (they can carry one-time secrets)', async (t) => {
    await app.inject({ url: '/slow?ms=0&code=secret-oauth-code', headers: { 'x-request-id': 'query-1' } })
    const logged = JSON.stringify(lines.filter((l) => l.requestId === 'query-1'))
    t.notMatch(logged, /secret-oauth-code/)
    t.match(logged, /\/slow\?\[redacted\]/)
  })

  t.test('an absent id is generated', async (t) => {
    const res = await app.inject({ url: '/slow' })
    t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  })

  t.test('an unsafe id is replaced, not echoed', async (t) => {
    const res = await app.inject({ url: '/slow', headers: { 'x-request-id': 'bad id\twith spaces' } })
    t.not(res.headers['x-request-id'], 'bad id\twith spaces')
  })

  t.test('error replies carry it, in the error shape', async (t) => {
    const notFound = await app.inject({ url: '/nope', headers: { 'x-request-id': 'err-1' } })
    t.equal(notFound.statusCode, 404)
    t.equal(notFound.headers['x-request-id'], 'err-1')
    t.same(notFound.json(), { statusCode: 404, error: 'Not Found', message: 'Route GET /nope not found', code: 'EXAMPLE_NOT_FOUND' })

    const boom = await app.inject({ url: '/boom', headers: { 'x-request-id': 'err-2' } })
    t.equal(boom.statusCode, 500)
    t.equal(boom.headers['x-request-id'], 'err-2')
    t.same(boom.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Something went wrong on our side', code: 'EXAMPLE_INTERNAL' })
    t.notMatch(boom.body, /hunter2/, '5xx details stay out of the reply')
    t.ok(lines.some((l) => l.requestId === 'err-2' && JSON.stringify(l).includes('secret driver detail')), 'and go to the log')
  })
})

t.test('validation names the field and never coerces bodies', async (t) => {
  const { app } = await build(t)
  const identity = signIdentity({ userId: 'u1', role: 'user', timezone: 'UTC', requestId: 'r', audience: 'example' }, SECRET)
  const post = (payload: unknown) => app.inject({ method: 'POST', url: '/items', headers: { [IDENTITY_HEADER]: identity }, payload: payload as object })
  const cases: [unknown, RegExp][] = [
    [{ score: 0 }, /body\/score must be >= 1/],
    [{ score: 6 }, /body\/score must be <= 5/],
    [{ score: 3.5 }, /body\/score must be integer/],
    [{ score: '4' }, /body\/score must be integer/],
    [{}, /body\/score is required/],
    [{ score: 3, extra: true }, /body\/extra is not an allowed field/],
    [{ score: 3, note: 'x'.repeat(11) }, /body\/note must not have more than 10 characters|body\/note/]
  ]
  for (const [payload, message] of cases) {
    const res = await post(payload)
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.equal(res.json().code, 'EXAMPLE_VALIDATION')
    t.match(res.json().message, message)
  }
  const bad = await app.inject({ method: 'POST', url: '/items', headers: { [IDENTITY_HEADER]: identity, 'content-type': 'application/json' }, payload: '{"score":' })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().code, 'EXAMPLE_INVALID_JSON')
  const ok = await post({ score: 4 })
  t.equal(ok.statusCode, 201)
})

t.test('identity assertions', async (t) => {
  const { app } = await build(t)
  const whoami = (headers: Record<string, string>) => app.inject({ url: '/whoami', headers })
  const good = signIdentity({ userId: 'user-1', role: 'admin', timezone: 'Europe/Paris', requestId: 'r1', audience: 'example' }, SECRET)

  const ok = await whoami({ [IDENTITY_HEADER]: good, 'x-request-id': 'r1' })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { userId: 'user-1', role: 'admin', timezone: 'Europe/Paris', requestId: 'r1' })

  const missing = await whoami({})
  t.equal(missing.statusCode, 401)
  t.equal(missing.json().code, 'EXAMPLE_UNAUTHENTICATED')

  const [v, body, mac] = good.split('.')
  const claims = JSON.parse(Buffer.from(body!, 'base64url').toString())
  const forgedBody = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')
  const tampered = await whoami({ [IDENTITY_HEADER]: `${v}.${forgedBody}.${mac}` })
  t.equal(tampered.statusCode, 401, 'changed claims with the old signature')

  const otherKey = await whoami({ [IDENTITY_HEADER]: signIdentity({ userId: 'user-1', role: 'admin', timezone: 'UTC', requestId: 'r', audience: 'example' }, 'another-secret-that-is-long-enough-000') })
  t.equal(otherKey.statusCode, 401, 'signed with another secret')

  const expired = signIdentity({ userId: 'user-1', role: 'user', timezone: 'UTC', requestId: 'r', audience: 'example' }, SECRET, 30, Date.now() - 120_000)
  t.equal((await whoami({ [IDENTITY_HEADER]: expired })).statusCode, 401, 'expired')

  const forAnother = signIdentity({ userId: 'user-1', role: 'admin', timezone: 'UTC', requestId: 'r', audience: 'mood' }, SECRET)
  t.equal((await whoami({ [IDENTITY_HEADER]: forAnother })).statusCode, 401, 'minted for another service')
  t.equal((await whoami({ [IDENTITY_HEADER]: 'garbage' })).statusCode, 401, 'malformed')
  t.equal((await app.inject({ url: '/slow' })).statusCode, 200, 'public routes need none')
})

t.test('/ready follows Postgres; /health does not', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const proxy = await TcpProxy.start(databaseUrl)
  t.teardown(() => proxy.stop())
  const { app } = await build(t, { DATABASE_URL: proxy.url(databaseUrl) })

  const ready = await app.inject({ url: '/ready' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ready', checks: { postgres: 'ok' } })

  await proxy.cut()
  const down = await app.inject({ url: '/ready', headers: { 'x-request-id': 'ready-1' } })
  t.equal(down.statusCode, 503)
  t.equal(down.json().code, 'EXAMPLE_NOT_READY')
  t.match(down.json().message, /postgres/)
  t.same(down.json().checks, { postgres: 'failing' })
  t.equal(down.headers['x-request-id'], 'ready-1')
  t.equal((await app.inject({ url: '/health' })).statusCode, 200)

  await proxy.restore()
  const back = await app.inject({ url: '/ready' })
  t.equal(back.statusCode, 200)
})

t.test('the test infrastructure is real', async (t) => {
  const infra = await testInfra()
  t.match(infra.databaseUrl, /^postgres:\/\//)
})
