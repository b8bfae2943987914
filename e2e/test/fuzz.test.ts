import fc from 'fast-check'
import pg from 'pg'
import t from 'tap'
import { Browser, startE2E } from './helper.js'

type Operation = { method: string, path: string, hasBody: boolean }

/** Every operation of the public API, from the OpenAPI document the gateway serves. */
function operationsOf (doc: { paths: Record<string, Record<string, { requestBody?: unknown }>> }): Operation[] {
  const ops: Operation[] = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'patch', 'put', 'delete'].includes(method)) continue
      ops.push({ method: method.toUpperCase(), path, hasBody: op.requestBody !== undefined || method === 'post' || method === 'patch' })
    }
  }
  return ops
}

const hostile = fc.constantFrom('__proto__', 'constructor', 'prototype', '../../etc/passwd', '%00', '\u0000', '💥'.repeat(50), 'a'.repeat(5000), '-1', '1e309', 'null', '{"$ne":1}', "' or 1=1 --")
const pathParam = fc.oneof(hostile, fc.string({ maxLength: 40 }), fc.uuid())
/** Bodies that are wrong in some way: hostile keys, wrong types, junk, prototype pollution. */
const badBody = fc.oneof(
  fc.constantFrom(
    '{"__proto__":{"polluted":true},"score":3}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"score":"4"}', '{"score":3.5}', '{"score":null}', '[1,2,3]', '"just a string"', '12', 'null', 'true', '{', '{"a":', '{}}',
    '{"name":["x"],"email":{"$gt":""},"message":1}'
  ),
  fc.json({ maxDepth: 3 }).map((j) => j),
  fc.dictionary(hostile, fc.jsonValue({ maxDepth: 2 })).map((o) => JSON.stringify(o))
)
const contentType = fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x', '')
const query = fc.array(fc.tuple(fc.constantFrom('limit', 'cursor', 'from', 'to', 'days', 'metric', 'status', 'sort', 'returnTo', '__proto__'), fc.oneof(hostile, fc.string({ maxLength: 20 }))), { maxLength: 4 })
  .map((pairs) => pairs.length === 0 ? '' : '?' + [...pairs, ...pairs.slice(0, 1)].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'))

async function counts (databaseUrl: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const out: Record<string, number> = {}
    for (const table of ['auth.users', 'auth.connections', 'mood.entries', 'contact.submissions', 'twitch_ingest.snapshots', 'twitter_ingest.snapshots']) {
      try { out[table] = Number((await client.query(`select count(*) from ${table}`)).rows[0].count) } catch { /* service not present */ }
    }
    return out
  } finally {
    await client.end()
  }
}

t.test('malformed, oversized, wrongly typed, hostile requests to every public endpoint: never a 5xx, always the error shape, nothing stored', async (t) => {
  const e2e = await startE2E(t, { RATE_LIMIT_PER_ADDRESS: '1000000', RATE_LIMIT_PER_USER: '1000000', CONTACT_RATE_LIMIT_MAX: '1000000', LOGIN_MAX_FAILURES_PER_ADDRESS: '1000000', LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000000', REGISTER_MAX_PER_ADDRESS: '1000000', TWITTER_LOGIN_MAX_PER_ADDRESS: '1000000' })
  const user = new Browser(e2e.gateway)
  await user.fetch('/auth/register', { method: 'POST', body: { username: 'fuzzed', password: 'a good long password' } })
  await user.fetch('/mood', { method: 'POST', body: { score: 3 } })
  const doc = (await user.fetch('/docs/json')).json as Parameters<typeof operationsOf>[0]
  // Logging out needs no input at all, so the fuzzer would mostly end its own session with it.
  const operations = operationsOf(doc).filter((op) => op.path !== '/auth/logout')
  t.ok(operations.length >= 20, `${operations.length} operations documented`)
  const before = await counts(e2e.env.DATABASE_URL!)
  const seen = new Map<string, number>()

  const request = fc.record({
    op: fc.constantFrom(...operations),
    params: pathParam,
    query,
    body: badBody,
    type: contentType,
    anonymous: fc.boolean(),
    oversized: fc.boolean()
  })
  await fc.assert(fc.asyncProperty(request, async ({ op, params, query, body, type, anonymous, oversized }) => {
    const path = op.path.replace(/\{[^}]+\}/g, encodeURIComponent(params)) + query
    const headers: Record<string, string> = anonymous ? {} : { cookie: `pulse_session=${user.cookies.get('pulse_session')}` }
    if (type !== '') headers['content-type'] = type
    const payload = oversized ? JSON.stringify({ note: 'x'.repeat(300_000) }) : body
    const res = await fetch(`${e2e.gateway}${path}`, { method: op.method, headers, body: op.method === 'GET' || op.method === 'DELETE' ? undefined : payload, redirect: 'manual' })
    const text = await res.text()
    seen.set(`${res.status}`, (seen.get(`${res.status}`) ?? 0) + 1)
    if (res.status >= 500) throw new Error(`${op.method} ${path} (${type}) → ${res.status} ${text.slice(0, 300)}`)
    if (res.status >= 400) {
      const parsed = JSON.parse(text) as Record<string, unknown>
      if (typeof parsed.statusCode !== 'number' || typeof parsed.error !== 'string' || typeof parsed.message !== 'string' || typeof parsed.code !== 'string') {
        throw new Error(`${op.method} ${path} → ${res.status} not in the error shape: ${text.slice(0, 200)}`)
      }
      if (res.headers.get('x-request-id') === null) throw new Error(`${op.method} ${path} → ${res.status} without x-request-id`)
    }
  }), { numRuns: 600, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2147483647) })

  t.same(await counts(e2e.env.DATABASE_URL!), before, 'no stored data changed')
  t.ok([...seen.keys()].some((s) => s.startsWith('4')), `statuses seen: ${JSON.stringify(Object.fromEntries(seen))}`)
  // (the fuzzer may well have logged the user out: POST /auth/logout needs no body)
  await user.fetch('/auth/login', { method: 'POST', body: { username: 'fuzzed', password: 'a good long password' } })
  const after = await user.fetch('/mood')
  t.equal(after.status, 200, 'the API still works for the user')
  t.equal(after.json.items.length, 1)
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'nothing polluted here either')
})
