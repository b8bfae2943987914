import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { sessionKey, sessionRevokedChannel, userSessionsKey } from '@pulse/service-kit'
import { eventually, testInfra, uniqueName } from '@pulse/testing'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { promisify } from 'node:util'
import t from 'tap'
import type { UserRow } from '../src/repositories/users.js'
import { RedisSessionStore } from '../src/session-store.js'
import { startSession } from '../src/sessions.js'
import { interleaveAfterGet } from './redis-race.js'

// The session store and the login's session on their own, against the real Redis: what is written,
// for how long, what is indexed and what is announced. (test/accounts.test.ts shows the same
// through the routes.)

const IDLE = 3600
const SECRET = 'session-store-test-secret-0123456789abcdef'
const infra = await testInfra()
const prefix = `${uniqueName('sessions')}:`
const redis = new Redis(infra.redisUrl, { keyPrefix: prefix })
/** Every session id announced as revoked on this prefix's channel, in order. */
const announced: string[] = []
const subscriber = new Redis(infra.redisUrl)
subscriber.on('message', (_channel, id: string) => { announced.push(id) })
await subscriber.subscribe(sessionRevokedChannel(prefix))
t.teardown(async () => {
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)))
  redis.disconnect()
  subscriber.disconnect()
})

const storeOn = (client: Redis) => {
  const store = new RedisSessionStore(client, prefix, IDLE)
  return {
    store,
    set: promisify(store.set.bind(store)) as (id: string, session: object) => Promise<void>,
    get: promisify(store.get.bind(store)) as (id: string) => Promise<unknown>,
    destroy: promisify(store.destroy.bind(store)) as (id: string) => Promise<void>
  }
}
const { store, set, get, destroy } = storeOn(redis)
const stored = async (id: string) => { const v = await redis.get(sessionKey(id)); return v === null ? null : JSON.parse(v) as Record<string, unknown> }
const index = async (userId: string) => (await redis.smembers(userSessionsKey(userId))).sort()
const record = (userId: string, extra: object = {}) => ({ userId, role: 'user', timezone: 'UTC', createdAt: 1_700_000_000_000, ...extra })

t.test('a logged-in session is stored for the idle timeout and indexed under its user', async (t) => {
  await set('s-ada-1', record('ada'))
  await set('s-ada-2', record('ada', { timezone: 'Europe/Paris' }))
  t.same(await stored('s-ada-1'), record('ada'))
  t.same(await get('s-ada-2'), record('ada', { timezone: 'Europe/Paris' }), 'read back whole')
  const ttl = await redis.ttl(sessionKey('s-ada-1'))
  t.ok(ttl > IDLE - 5 && ttl <= IDLE, `expires after the idle timeout (${ttl})`)
  t.same(await index('ada'), ['s-ada-1', 's-ada-2'])
  t.equal(await get('s-nobody'), null, 'an unknown session reads as none')
})

t.test('an anonymous session leaves nothing in Redis', async (t) => {
  await set('s-anonymous', { cookie: {} })
  await set('s-odd', { userId: 42 })
  t.equal(await redis.exists(sessionKey('s-anonymous'), sessionKey('s-odd')), 0)
})

t.test('destroying a session deletes it, takes it out of the index and announces it', async (t) => {
  await set('s-bob-1', record('bob'))
  await set('s-bob-2', record('bob'))
  await destroy('s-bob-1')
  t.equal(await stored('s-bob-1'), null)
  t.same(await index('bob'), ['s-bob-2'], 'the other session stays indexed')
  t.ok(await eventually(() => announced.includes('s-bob-1'), 5000), 'gateways are told')
  await store.remove('s-never-stored')
  t.ok(await eventually(() => announced.includes('s-never-stored'), 5000), 'removing an unknown session is announced too')
  await redis.set(sessionKey('s-odd-record'), JSON.stringify({ userId: 7 }))
  await redis.sadd(userSessionsKey('7'), 's-odd-record')
  await store.remove('s-odd-record')
  t.equal(await stored('s-odd-record'), null, 'a record without a user id is deleted all the same')
  t.same(await index('7'), ['s-odd-record'], 'and no index is touched for it')
})

t.test('a profile change rewrites every live session of the user, keeping each expiry, and announces each', async (t) => {
  await set('s-cy-1', record('cy'))
  await set('s-cy-2', record('cy', { role: 'admin' }))
  await set('s-dee-1', record('dee'))
  await redis.expire(sessionKey('s-cy-1'), 100)
  await redis.sadd(userSessionsKey('cy'), 's-cy-expired')
  const before = announced.length
  await store.updateUserSessions('cy', { timezone: 'Asia/Tokyo' })
  t.same(await stored('s-cy-1'), record('cy', { timezone: 'Asia/Tokyo' }))
  t.same(await stored('s-cy-2'), record('cy', { role: 'admin', timezone: 'Asia/Tokyo' }), 'the rest of the record is kept')
  t.same(await stored('s-dee-1'), record('dee'), 'another user\'s session is untouched')
  const ttl = await redis.ttl(sessionKey('s-cy-1'))
  t.ok(ttl > 0 && ttl <= 100, `the expiry is kept (${ttl})`)
  t.same(await index('cy'), ['s-cy-1', 's-cy-2'], 'an expired session is dropped from the index')
  t.equal(await redis.exists(sessionKey('s-cy-expired')), 0, 'and not brought back')
  t.ok(await eventually(() => announced.slice(before).includes('s-cy-1') && announced.slice(before).includes('s-cy-2'), 5000), 'each rewritten session is announced')
  t.notOk(announced.slice(before).includes('s-cy-expired'), 'a dropped one is not')
  t.notOk(announced.slice(before).includes('s-dee-1'))
})

t.test('a session removed between the read and the write of a rewrite stays removed', async (t) => {
  await set('s-eve-1', record('eve'))
  await set('s-eve-2', record('eve'))
  // A client whose GET of the first session lets a logout run right after it: the race, every time.
  const racing = interleaveAfterGet(redis, sessionKey('s-eve-1'), async () => { await store.remove('s-eve-1') })
  const before = announced.length
  await new RedisSessionStore(racing.client, prefix, IDLE).updateUserSessions('eve', { role: 'admin' })
  t.ok(racing.ran())
  t.equal(await stored('s-eve-1'), null, 'not written back')
  t.same(await index('eve'), ['s-eve-2'])
  t.same(await stored('s-eve-2'), record('eve', { role: 'admin' }))
  t.ok(await eventually(() => announced.slice(before).includes('s-eve-2'), 5000))
  t.equal(announced.slice(before).filter((id) => id === 's-eve-1').length, 1, 'the removed one is announced by its removal only')
})

t.test('a Redis failure reaches the session library as an error', async (t) => {
  const down = new Redis(infra.redisUrl, { keyPrefix: prefix, lazyConnect: true, enableOfflineQueue: false })
  const failing = storeOn(down)
  await t.rejects(failing.get('s-any'))
  await t.rejects(failing.set('s-any', record('fay')))
  await t.rejects(failing.destroy('s-any'))
  down.disconnect()
})

t.test('a login starts a new session carrying what the gateway asserts, and ends the one before it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyCookie)
  await app.register(fastifySession, { cookieName: 'sid', secret: SECRET, store, saveUninitialized: false, cookie: { secure: false } })
  const user = { id: 'u-gil', role: 'admin', timezone: 'America/New_York' } as UserRow
  app.post('/login', async (request) => { await startSession(request, user); return { ok: true } })
  const idOf = (res: { cookies: { name: string, value: string }[] }) => decodeURIComponent(res.cookies.find((c) => c.name === 'sid')!.value).split('.')[0]!

  const started = Date.now()
  const first = await app.inject({ method: 'POST', url: '/login' })
  const firstId = idOf(first)
  t.match(await stored(firstId), { userId: 'u-gil', role: 'admin', timezone: 'America/New_York' })
  const createdAt = (await stored(firstId))!.createdAt as number
  t.ok(createdAt >= started && createdAt <= Date.now(), 'createdAt is the login time')

  const second = await app.inject({ method: 'POST', url: '/login', headers: { cookie: `sid=${first.cookies.find((c) => c.name === 'sid')!.value}` } })
  const secondId = idOf(second)
  t.not(secondId, firstId, 'a new session id at every login')
  t.equal(await stored(firstId), null, 'the session before it is gone')
  t.same(await index('u-gil'), [secondId])
})
