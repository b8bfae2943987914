import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import pg from 'pg'
import t from 'tap'
import { Browser, approveProvider, stackDatabase, startE2E, urlOf, type E2EStack } from './helper.js'

/*
 * The API fuzzed from its own OpenAPI document, operation by operation, as three callers: a visitor,
 * a creator with Twitch and X connected, and an admin.
 *
 * 1. Reach: requests built from each operation's schemas (path ids of rows that exist and random
 *    ones), some of them spoiled. Never a 5xx, every error in the error shape, and per operation a
 *    share of the requests must get past validation and authentication into the handler; a fuzzer
 *    that only meets 400s and 401s fails.
 * 2. Hostile: requests that are wrong by construction (prototype-polluting, wrongly typed, junk,
 *    oversized, wrong content type, hostile path ids). Every one refused with a 4xx, and afterwards
 *    the content of every table each service owns (a checksum per table, outboxes included) and of
 *    Redis is what it was before.
 * 3. No service's prototypes were polluted (each one's test-only probe says so).
 *
 * PULSE_FUZZ_RUNS sets the requests per operation in the reach phase (default 200; the nightly run
 * uses 1,000 or more); PULSE_FUZZ_SEED replays a run; PULSE_FUZZ_WRITE_DOCS=1 writes the reach table
 * into docs/testing.md (between its fuzz-reach markers).
 */
const RUNS = Number(process.env.PULSE_FUZZ_RUNS ?? 200)
const HOSTILE_RUNS = Math.max(25, Math.round(RUNS / 4))
const SEED = Number(process.env.PULSE_FUZZ_SEED ?? Date.now() % 2147483647)
/** The share of each operation's requests that must reach its handler (the least any reaches at 200 runs is well above it). */
const MIN_REACH = 0.1

/** Replaces the table between the fuzz-reach markers of docs/testing.md, and the run it came from. */
function writeReachTable (table: string[]): void {
  const file = fileURLToPath(new URL('../../docs/testing.md', import.meta.url))
  const text = readFileSync(file, 'utf8')
  const start = '<!-- fuzz-reach:start -->'
  const end = '<!-- fuzz-reach:end -->'
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from === -1 || to < from) throw new Error('docs/testing.md has no fuzz-reach markers')
  const body = [`Written by the run of ${new Date().toISOString().slice(0, 10)}: ${RUNS} requests per operation, seed ${SEED}.`, '', ...table].join('\n')
  writeFileSync(file, `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`)
}

type Schema = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
interface Parameter { name: string, in: 'path' | 'query' | 'header' | 'cookie', required?: boolean, schema?: Schema }
interface Operation { method: string, path: string, parameters: Parameter[], body: Schema | undefined }
interface Doc { paths: Record<string, Record<string, { parameters?: Parameter[], requestBody?: { content?: Record<string, { schema?: Schema }> } }>>, components: { schemas?: Record<string, Schema> } }

function operationsOf (doc: Doc): Operation[] {
  const ops: Operation[] = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'patch', 'put', 'delete'].includes(method)) continue
      ops.push({ method: method.toUpperCase(), path, parameters: op.parameters ?? [], body: op.requestBody?.content?.['application/json']?.schema })
    }
  }
  // Operations that end the caller's session or connections go last, so the others keep their caller.
  const last = (op: Operation) => (op.path === '/auth/logout' ? 2 : op.path.startsWith('/auth/connections') ? 1 : 0)
  return ops.sort((a, b) => last(a) - last(b))
}

/** Values valid for a JSON schema (the subset TypeBox and the OpenAPI document use). */
function arbitraryOf (schema: Schema | undefined, doc: Doc, depth = 0): fc.Arbitrary<unknown> {
  if (schema === undefined || depth > 6) return fc.constant(undefined)
  if (typeof schema.$ref === 'string') return arbitraryOf(doc.components.schemas?.[schema.$ref.split('/').at(-1)!], doc, depth + 1)
  if ('const' in schema) return fc.constant(schema.const)
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum)
  const union = schema.anyOf ?? schema.oneOf
  if (Array.isArray(union)) return fc.oneof(...union.map((s: Schema) => arbitraryOf(s, doc, depth + 1)))
  if (Array.isArray(schema.allOf)) return arbitraryOf(Object.assign({}, ...schema.allOf.map((s: Schema) => typeof s.$ref === 'string' ? doc.components.schemas?.[s.$ref.split('/').at(-1)!] : s), { properties: Object.assign({}, ...schema.allOf.map((s: Schema) => s.properties ?? {})) }), doc, depth + 1)
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  switch (type) {
    case 'string': {
      const max = Math.min(schema.maxLength ?? 40, 200)
      const min = Math.min(schema.minLength ?? 0, max)
      if (schema.format === 'email') return fc.emailAddress().filter((e) => e.length <= max && e.length >= min)
      if (schema.format === 'uuid') return fc.uuid()
      if (schema.format === 'date-time') return fc.date({ min: new Date(Date.now() - 30 * 864e5), max: new Date(), noInvalidDate: true }).map((d) => d.toISOString())
      if (schema.format === 'date') return fc.date({ min: new Date(Date.now() - 30 * 864e5), max: new Date(), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10))
      if (schema.format === 'uri') return fc.webUrl()
      if (typeof schema.pattern === 'string') return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= min && s.length <= max)
      return fc.string({ minLength: Math.max(min, 0), maxLength: max }).filter((s) => s.trim().length >= Math.min(min, 1) || min === 0)
    }
    case 'integer': return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 })
    case 'number': return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000, noNaN: true, noDefaultInfinity: true })
    case 'boolean': return fc.boolean()
    case 'null': return fc.constant(null)
    case 'array': return fc.array(arbitraryOf(schema.items, doc, depth + 1), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, 3) })
    case 'object': {
      const props = Object.entries((schema.properties ?? {}) as Record<string, Schema>)
      const required = new Set<string>(schema.required ?? [])
      return fc.record(Object.fromEntries(props.map(([k, s]) => [k, arbitraryOf(s, doc, depth + 1)])), { requiredKeys: props.map(([k]) => k).filter((k) => required.has(k)) })
    }
    default: return fc.jsonValue({ maxDepth: 1 })
  }
}

/** Strings that are never a valid id, provider or value anywhere in the API. */
const HOSTILE = ['__proto__', 'constructor', 'prototype', '../../etc/passwd', '%00', '\u0000', '💥'.repeat(50), 'a'.repeat(5000), '-1', '1e309', '{"$ne":1}', "' or 1=1 --"]
/** Bodies no operation accepts: prototype pollution, wrong types, junk, broken JSON. */
const HOSTILE_BODIES = [
  '{"__proto__":{"polluted":true},"score":3}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"username":"x","password":"y"}',
  '{"score":"4"}', '{"score":3.5}', '{"score":null}', '[1,2,3]', '"just a string"', '12', 'null', 'true', '{', '{"a":', '{}}',
  '{"name":["x"],"email":{"$gt":""},"message":1}', '{"status":{"$ne":"new"}}', '{"displayName":7,"timezone":["UTC"]}'
]
const CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x']

type Caller = 'anonymous' | 'creator' | 'admin'
const CALLERS: Caller[] = ['anonymous', 'creator', 'admin']

/** A checksum of each table's rows (all columns, in a stable order) of every service's schema. */
async function tableChecksums (db: pg.Client): Promise<Record<string, string>> {
  const tables = (await db.query(`select table_schema, table_name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema', 'public') order by 1, 2`)).rows as { table_schema: string, table_name: string }[]
  const out: Record<string, string> = {}
  for (const { table_schema: schema, table_name: name } of tables) {
    // A query that fails fails the test: every table of every schema must be readable here.
    const { rows } = await db.query(`select md5(coalesce(string_agg(r::text, '|' order by r::text), '')) as sum, count(*)::int as n from "${schema}"."${name}" r`)
    out[`${schema}.${name}`] = `${rows[0].n}:${rows[0].sum}`
  }
  return out
}

/**
 * Every Redis key of the stack (by its prefix) with a hash of its value. The gateway's rate-limit
 * counters count every request, hostile or not, so they are left out; expiry times are too (a
 * session's is extended by each use).
 */
async function redisChecksums (redis: Redis, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const key of (await redis.keys(`${prefix}*`)).sort()) {
    const name = key.slice(prefix.length)
    if (name.startsWith('rate-limit:')) continue
    const dump = await redis.dumpBuffer(key)
    out[name] = dump === null ? 'gone' : createHash('sha256').update(dump).digest('hex').slice(0, 16)
  }
  return out
}

/** Whether the answer came from the operation's handler, past validation, authentication and the gateway's limits. */
function reachedHandler (status: number, body: Record<string, unknown>): boolean {
  if (status < 400) return true
  if ([413, 415].includes(status)) return false
  const code = typeof body.code === 'string' ? body.code : ''
  if (code.startsWith('GATEWAY_')) return false
  if (/_(VALIDATION|UNAUTHENTICATED|FORBIDDEN|BAD_REQUEST|INVALID_JSON|EMPTY_BODY|UNSUPPORTED_MEDIA_TYPE|PAYLOAD_TOO_LARGE)$/.test(code)) return false
  if (status === 404 && typeof body.message === 'string' && body.message.startsWith('Route ')) return false
  return true
}

// The stack's start and a default run take several minutes on a loaded two-core machine; a long run more.
t.setTimeout(Math.max(900_000, RUNS * 3_000))

t.test('the whole API fuzzed per operation as a visitor, a creator and an admin: reach, refusals, nothing changed, nothing polluted', async (t) => {
  t.comment(`fuzz: ${RUNS} requests per operation, seed ${SEED} (PULSE_FUZZ_SEED=${SEED} replays it)`)
  const e2e: E2EStack = await startE2E(t, {
    NODE_ENV: 'test', TEST_PROBES: 'true',
    RATE_LIMIT_PER_ADDRESS: '10000000', RATE_LIMIT_PER_USER: '10000000', CONTACT_RATE_LIMIT_MAX: '10000000',
    LOGIN_MAX_FAILURES_PER_ADDRESS: '10000000', LOGIN_MAX_FAILURES_PER_ACCOUNT: '10000000',
    REGISTER_MAX_PER_ADDRESS: '10000000', TWITTER_LOGIN_MAX_PER_ADDRESS: '10000000',
    // The jobs that write on a clock, not on a request (scheduled refreshes, the retention job, the
    // mood reminders the reach phase may have set) are off: the hostile phase proves that no request
    // changed a table, so nothing else may change one while it runs.
    TWITCH_SCHEDULER_ENABLED: 'false', TWITTER_SCHEDULER_ENABLED: 'false',
    TWITCH_RETENTION_ENABLED: 'false', TWITTER_RETENTION_ENABLED: 'false',
    NOTIFY_REMINDER_POLL_MS: String(24 * 3600_000)
  })
  const password = 'a good long password'
  const callers: Record<Caller, Browser> = { anonymous: new Browser(e2e.gateway), creator: new Browser(e2e.gateway), admin: new Browser(e2e.gateway) }
  const usernames: Record<Exclude<Caller, 'anonymous'>, string> = { creator: 'fuzzcreator', admin: 'fuzzadmin' }
  for (const who of ['creator', 'admin'] as const) {
    t.equal((await callers[who].fetch('/auth/register', { method: 'POST', body: { username: usernames[who], password } })).status, 201, `${who} registered`)
  }
  const made = await e2e.runCommand('services/auth', 'src/cli/make-admin.ts', [usernames.admin])
  t.equal(made.code, 0, made.output)
  const login = async (who: 'creator' | 'admin') => {
    const res = await callers[who].fetch('/auth/login', { method: 'POST', body: { username: usernames[who], password } })
    if (res.status !== 200) throw new Error(`${who} could not log in again: ${res.status} ${res.text}`)
  }
  await login('admin')
  t.equal((await callers.admin.fetch('/auth/me')).json.user.role, 'admin')
  await approveProvider(callers.creator, 'twitch', 'sim_mid')
  await approveProvider(callers.creator, 'twitter', 'sim_mid')
  t.same((await callers.creator.fetch('/auth/me')).json.user.connections.map((c: { provider: string }) => c.provider).sort(), ['twitch', 'twitter'], 'the creator has Twitch and X connected')

  // Rows that exist, for path ids: the fuzzer must meet real rows too, not only random ids.
  const ids: string[] = []
  for (const score of [2, 4]) ids.push((await callers.creator.fetch('/mood', { method: 'POST', body: { score } })).json.entry.id)
  ids.push((await callers.anonymous.fetch('/contact', { method: 'POST', body: { name: 'Fuzz', email: 'fuzz@example.com', message: 'a real message' } })).json.id)
  t.ok(ids.every((id) => typeof id === 'string'), `rows to aim at: ${ids.join(', ')}`)

  const doc = (await callers.anonymous.fetch('/docs/json')).json as Doc
  const operations = operationsOf(doc)
  for (const path of ['/events', '/health', '/ready', '/docs/json', '/auth/logout']) t.ok(operations.some((op) => op.path === path), `the document lists ${path}`)
  t.ok(operations.length >= 25, `${operations.length} operations documented`)

  const send = async (op: Operation, who: Caller, path: string, init: { body?: string, type?: string, headers?: Record<string, string> }) => {
    const headers: Record<string, string> = { ...init.headers }
    const jar = callers[who].cookies
    if (jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    if (init.type !== undefined) headers['content-type'] = init.type
    // A DELETE carries a body only where the operation takes one (DELETE /auth/me: the password).
    const hasBody = init.body !== undefined && op.method !== 'GET' && (op.method !== 'DELETE' || op.body !== undefined)
    // /events streams until the client leaves: the status and headers are the answer.
    const controller = new AbortController()
    const res = await fetch(`${e2e.gateway}${path}`, { method: op.method, headers, body: hasBody ? init.body : undefined, redirect: 'manual', signal: controller.signal })
    const streaming = res.headers.get('content-type')?.startsWith('text/event-stream') === true
    const text = streaming ? '' : await res.text()
    if (streaming) controller.abort()
    let json: Record<string, unknown> = {}
    try { json = JSON.parse(text) as Record<string, unknown> } catch { /* not JSON */ }
    const where = `${who} ${op.method} ${path.slice(0, 200)} (${init.type ?? 'no type'})`
    if (res.status >= 500) throw new Error(`${where} → ${res.status} ${text.slice(0, 300)}`)
    if (res.status >= 400) {
      if (typeof json.statusCode !== 'number' || typeof json.error !== 'string' || typeof json.message !== 'string' || typeof json.code !== 'string') {
        throw new Error(`${where} → ${res.status} not in the error shape: ${text.slice(0, 200)}`)
      }
      if (res.headers.get('x-request-id') === null) throw new Error(`${where} → ${res.status} without x-request-id`)
    }
    // Keep each caller who they are: the fuzzer may log itself out or end its session.
    // Registering or logging in as someone else replaces the caller's session (the old one is deleted).
    if (who !== 'anonymous' && (op.path === '/auth/logout' || ((op.path === '/auth/register' || op.path === '/auth/login') && res.status < 300) || json.code === 'GATEWAY_UNAUTHENTICATED' || (res.status === 401 && /_UNAUTHENTICATED$/.test(String(json.code))))) {
      const me = await callers[who].fetch('/auth/me')
      if (me.status === 401) await login(who)
    }
    return { status: res.status, json }
  }

  const fill = (op: Operation, values: Record<string, unknown>) => {
    const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(String(values[name])))
    const query = op.parameters.filter((p) => p.in === 'query' && values[p.name] !== undefined).map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(String(values[p.name]))}`)
    return path + (query.length > 0 ? `?${query.join('&')}` : '')
  }
  const parameterValues = (op: Operation) => fc.record(Object.fromEntries(op.parameters.filter((p) => p.in === 'path' || p.in === 'query').map((p) => {
    const fromSchema = arbitraryOf(p.schema, doc)
    // Ids of real rows (and other uuids) where the path takes a uuid; a provider's own ids (digits) come from their schema.
    const value = p.in === 'path' && /id$/i.test(p.name) && p.schema?.format === 'uuid' ? fc.oneof(fc.constantFrom(...ids), fc.uuid(), fromSchema) : fromSchema
    // An optional parameter is left out half the time, a cursor nearly always (a made-up one is rightly refused).
    const absent = p.name === 'cursor' ? 9 : 1
    return [p.name, p.required === true || p.in === 'path' ? value : fc.oneof({ arbitrary: fc.constant(undefined), weight: absent }, { arbitrary: value, weight: 1 })]
  })), { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>

  t.test('reach: requests from each operation\'s schemas get past validation into the handler', async (t) => {
    const report: string[] = ['| operation | requests | reached the handler | statuses |', '|---|---|---|---|']
    for (const op of operations) {
      const statuses = new Map<number, number>()
      const stoppedBy = new Map<string, number>()
      let reached = 0
      const request = fc.record({
        who: fc.constantFrom(...CALLERS),
        values: parameterValues(op),
        body: arbitraryOf(op.body, doc),
        // Now and then a spoiled request: a hostile body, or the wrong content type.
        spoil: fc.oneof(
          { arbitrary: fc.constant(null), weight: 4 },
          { arbitrary: fc.oneof(fc.constantFrom(...HOSTILE_BODIES).map((body) => ({ body })), fc.constantFrom(...CONTENT_TYPES).map((type) => ({ type }))), weight: 1 }
        )
      })
      await fc.assert(fc.asyncProperty(request, async ({ who, values, body, spoil }) => {
        const json = body === undefined ? undefined : JSON.stringify(body)
        const res = await send(op, who, fill(op, values), {
          body: spoil !== null && 'body' in spoil ? spoil.body : json,
          type: spoil !== null && 'type' in spoil ? spoil.type : (json === undefined ? undefined : 'application/json')
        })
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
        if (reachedHandler(res.status, res.json)) reached++
        else {
          const why = `${who} ${res.status} ${String(res.json.code)}${res.status === 400 ? ` ${String(res.json.message).slice(0, 80)}` : ''}`
          stoppedBy.set(why, (stoppedBy.get(why) ?? 0) + 1)
        }
      }), { numRuns: RUNS, seed: SEED, endOnFailure: true })
      const line = `| \`${op.method} ${op.path}\` | ${RUNS} | ${reached} (${Math.round((100 * reached) / RUNS)} %) | ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')} |`
      report.push(line)
      t.ok(reached >= RUNS * MIN_REACH, `${op.method} ${op.path}: ${reached} of ${RUNS} reached the handler`, { stoppedBy: Object.fromEntries(stoppedBy) })
    }
    t.comment(`what the fuzzer reaches (seed ${SEED}):\n${report.join('\n')}`)
    if (process.env.PULSE_FUZZ_WRITE_DOCS === '1') writeReachTable(report)
  })

  t.test('hostile: every wrong request is refused with a 4xx, and no table, outbox or Redis key changed', async (t) => {
    const db = await stackDatabase(t, e2e)
    const redis = new Redis(e2e.env.REDIS_URL!)
    t.teardown(() => { redis.disconnect() })
    const prefix = e2e.env.REDIS_PREFIX!
    // The hostile phase reads whatever the reach phase left: nothing may move while it runs.
    const tablesBefore = await tableChecksums(db)
    t.ok(Object.keys(tablesBefore).some((name) => name.endsWith('.outbox')), `every service's tables: ${Object.keys(tablesBefore).join(', ')}`)
    const redisBefore = await redisChecksums(redis, prefix)
    t.ok(Object.keys(redisBefore).some((name) => name.startsWith('session:')), 'the sessions are among the Redis keys compared')

    // Wrong by construction: a hostile body or content type where there is a body, a hostile path id where there is one.
    const targets = operations.filter((op) => op.body !== undefined || op.path.includes('{'))
    for (const op of targets) {
      const request = fc.record({
        who: fc.constantFrom(...CALLERS),
        values: parameterValues(op),
        hostileId: fc.constantFrom(...HOSTILE),
        body: arbitraryOf(op.body, doc),
        wrong: op.body === undefined
          ? fc.constant({ kind: 'id' as const })
          : fc.oneof(
            fc.constantFrom(...HOSTILE_BODIES).map((body) => ({ kind: 'body' as const, body })),
            fc.constantFrom(...CONTENT_TYPES).map((type) => ({ kind: 'type' as const, type })),
            fc.constant({ kind: 'oversized' as const })
          )
      })
      await fc.assert(fc.asyncProperty(request, async ({ who, values, hostileId, body, wrong }) => {
        const params = { ...values }
        if (wrong.kind === 'id') for (const p of op.parameters.filter((p) => p.in === 'path')) params[p.name] = hostileId
        const json = JSON.stringify(body ?? {})
        const init = wrong.kind === 'body'
          ? { body: wrong.body, type: 'application/json' }
          : wrong.kind === 'type'
            ? { body: json, type: wrong.type }
            : wrong.kind === 'oversized' ? { body: JSON.stringify({ note: 'x'.repeat(300_000) }), type: 'application/json' } : {}
        const res = await send(op, who, fill(op, params), init)
        if (res.status < 400) throw new Error(`${who} ${op.method} ${op.path} (${wrong.kind}) was accepted: ${res.status}`)
      }), { numRuns: HOSTILE_RUNS, seed: SEED, endOnFailure: true })
    }
    t.same(await tableChecksums(db), tablesBefore, 'every table of every service, outboxes included, holds exactly what it held')
    t.same(await redisChecksums(redis, prefix), redisBefore, 'Redis holds the same keys with the same values')
  })

  t.test('no service\'s prototypes were polluted', async (t) => {
    for (const child of e2e.stack.children.filter((c) => c.name !== 'provider-sim')) {
      const res = await fetch(`${urlOf(e2e, child.name)}/_test/prototype`)
      t.equal(res.status, 200, `${child.name} has the probe`)
      t.same(await res.json(), { polluted: [] }, `${child.name}: Object, Array, Function and String prototypes as they were`)
    }
  })

  t.test('the API still works for the creator afterwards', async (t) => {
    const after = await callers.creator.fetch('/mood')
    t.equal(after.status, 200)
  })
})
