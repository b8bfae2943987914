import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import Type from 'typebox'
import {
  ProviderHttp, ProviderRateLimitedError, ProviderRequestError, ProviderSession, ProviderUnauthorizedError,
  ProviderUnavailableError, RateLimitTracker, TokenRevokedError, answerCheck, classifyRefreshError, type ProviderGrant
} from '../src/index.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** A provider stand-in on a real socket whose next answers the test scripts. */
async function provider (t: { teardown: (fn: () => unknown) => void }) {
  const script: Handler[] = []
  let calls = 0
  const server = createServer((req, res) => {
    calls++
    const next = script.shift()
    if (next === undefined) {
      res.writeHead(200, { 'content-type': 'application/json', 'ratelimit-remaining': '100', 'ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 60) })
      res.end(JSON.stringify({ ok: true, auth: req.headers.authorization ?? null }))
    } else {
      next(req, res)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections() }))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`
  return { url, script, calls: () => calls }
}

const answer = (status: number, headers: Record<string, string> = {}, body: unknown = { status }): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

function client (overrides: Partial<ConstructorParameters<typeof ProviderHttp>[0]> = {}) {
  const tracker = new RateLimitTracker(Date.now)
  return new ProviderHttp({
    now: Date.now,
    tracker,
    rateLimitHeaders: { remaining: 'ratelimit-remaining', reset: 'ratelimit-reset' },
    timeoutMs: 2000,
    maxAttempts: 3,
    retryBaseMs: 5,
    maxInlineWaitMs: 0,
    maxRateLimitWaitMs: 60_000,
    ...overrides
  })
}

const call = (url: string, token = 't1') => ({ url, endpoint: 'GET /x', bucket: 'user:1', headers: () => ({ Authorization: `Bearer ${token}` }) })
const epoch = (msFromNow: number) => String(Math.ceil((Date.now() + msFromNow) / 1000))

t.test('5xx answers are retried a bounded number of times, then reported as unavailable', async (t) => {
  const p = await provider(t)
  p.script.push(answer(503), answer(500))
  t.same(await client().getJson(call(p.url)), { ok: true, auth: 'Bearer t1' }, 'the third try succeeds')
  t.equal(p.calls(), 3)

  p.script.push(answer(503), answer(503), answer(503), answer(503))
  await t.rejects(client().getJson(call(p.url)), ProviderUnavailableError)
  t.equal(p.calls(), 6, 'three tries, no more')
})

t.test('a 429 becomes a rate-limit error carrying the reset; the spent budget refuses the next call without asking', async (t) => {
  const p = await provider(t)
  const http = client()
  p.script.push(answer(429, { 'ratelimit-remaining': '0', 'ratelimit-reset': epoch(30_000) }))
  const error = await http.getJson(call(p.url)).catch((e: unknown) => e)
  t.ok(error instanceof ProviderRateLimitedError)
  const wait = (error as ProviderRateLimitedError).retryAt - Date.now()
  t.ok(wait > 28_000 && wait <= 31_000, `retry in about 30 s (${wait})`)
  await t.rejects(http.getJson(call(p.url)), ProviderRateLimitedError)
  t.equal(p.calls(), 1, 'the second call never reached the provider')
})

t.test('a budget the headers say is spent is respected before the provider refuses', async (t) => {
  const p = await provider(t)
  const http = client()
  p.script.push(answer(200, { 'ratelimit-remaining': '0', 'ratelimit-reset': epoch(20_000) }, { n: 1 }))
  t.same(await http.getJson(call(p.url)), { n: 1 })
  await t.rejects(http.getJson(call(p.url)), ProviderRateLimitedError)
  t.equal(p.calls(), 1)
})

t.test('a short wait for the reset happens in place when allowed', async (t) => {
  const p = await provider(t)
  const http = client({ maxInlineWaitMs: 3000 })
  p.script.push(answer(429, { 'ratelimit-remaining': '0', 'ratelimit-reset': epoch(1000) }))
  t.same(await http.getJson(call(p.url)), { ok: true, auth: 'Bearer t1' })
  t.equal(p.calls(), 2)
})

t.test('a reset far beyond the window (clocks disagree) is capped at one window', async (t) => {
  const p = await provider(t)
  p.script.push(answer(429, { 'ratelimit-remaining': '0', 'ratelimit-reset': epoch(86_400_000) }))
  const error = await client({ maxRateLimitWaitMs: 60_000 }).getJson(call(p.url)).catch((e: unknown) => e) as ProviderRateLimitedError
  t.ok(error.retryAt - Date.now() <= 60_000)
})

t.test('401 and other 4xx are reported, never retried', async (t) => {
  const p = await provider(t)
  p.script.push(answer(401))
  await t.rejects(client().getJson(call(p.url)), ProviderUnauthorizedError)
  p.script.push(answer(404))
  await t.rejects(client().getJson(call(p.url)), ProviderRequestError)
  t.equal(p.calls(), 2)
})

t.test('an answer is checked against the schema of what the service reads: another shape is a request error, never retried', async (t) => {
  const p = await provider(t)
  const shape = answerCheck(Type.Object({ data: Type.Array(Type.Object({ id: Type.String() })) }))
  p.script.push(answer(200, {}, { data: [{ id: '1' }] }))
  t.same(await client().getJson(call(p.url), shape), { data: [{ id: '1' }] })
  p.script.push(answer(200, {}, { data: [{ id: 1 }] }))
  const error = await client().getJson(call(p.url), shape).catch((e: unknown) => e)
  t.ok(error instanceof ProviderRequestError)
  t.match((error as Error).message, /GET \/x answered an unexpected shape: \/data\/0\/id/)
  t.equal(p.calls(), 2, 'no retry of a wrong shape')
})

const grant = (accessToken: string): ProviderGrant => ({
  ok: true, provider: 'twitch', providerUserId: '1', providerLogin: 'a', accessToken, expiresAt: null, scopes: []
})

t.test('a session renews a refused token once, naming it, and calls again', async (t) => {
  const p = await provider(t)
  const http = client()
  const asked: Array<string | undefined> = []
  const session = await ProviderSession.open(async (rejected) => {
    asked.push(rejected)
    return grant(rejected === undefined ? 'old' : 'new')
  })
  p.script.push(answer(401))
  t.same(await session.call((g) => http.getJson(call(p.url, g.accessToken))), { ok: true, auth: 'Bearer new' })
  t.same(asked, [undefined, 'old'])
  t.equal(session.grant.accessToken, 'new')
})

t.test('a session whose renewed token is refused too reports the grant as revoked', async (t) => {
  const p = await provider(t)
  const http = client()
  const session = await ProviderSession.open(async (rejected) => grant(rejected === undefined ? 'old' : 'new'))
  p.script.push(answer(401), answer(401))
  await t.rejects(session.call((g) => http.getJson(call(p.url, g.accessToken))), TokenRevokedError)
  t.equal(p.calls(), 2)
})

t.test('errors are classified: transient ones are retried, the others end the request', async (t) => {
  t.match(classifyRefreshError(new ProviderRateLimitedError(5)), { kind: 'retry', reason: 'rate_limited', retryAt: 5 })
  t.match(classifyRefreshError(new ProviderUnavailableError('x')), { kind: 'retry', reason: 'provider_unavailable' })
  t.match(classifyRefreshError(new TokenRevokedError('x')), { kind: 'final', reason: 'token_revoked', invalidate: true })
  t.match(classifyRefreshError(new ProviderRequestError(400, 'x')), { kind: 'final', reason: 'internal', invalidate: false })
  t.match(classifyRefreshError(new Error('database down')), { kind: 'unexpected' })
})
