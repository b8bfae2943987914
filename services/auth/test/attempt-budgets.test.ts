import { rateLimitSubject } from '@pulse/service-kit'
import { testInfra, testRedisKeySpace } from '@pulse/testing'
import { Redis } from 'ioredis'
import t from 'tap'
import { AddressLimit, AttemptBudgets, LoginThrottle } from '../src/login-throttle.js'

// The budgets on their own, against the real Redis, key by key: what is counted, when, for how long,
// and what a refusal says. (test/login-throttle.test.ts shows the same through the login route.)

const WINDOW = 600
const infra = await testInfra()
/** A client of this test file's own key space (closed, and its keys deleted, at the end). */
const { redis, prefix } = await testRedisKeySpace(t, 'budgets')

const pairKey = (username: string, ip: string) => `login-failures:account:${username}:${rateLimitSubject(ip)}`
const addressKey = (ip: string) => `login-failures:address:${rateLimitSubject(ip)}`
const count = async (key: string) => await redis.get(key)

t.test('each attempt is counted in both budgets until the (account, address) one is spent', async (t) => {
  const throttle = new LoginThrottle(redis, { maxPerAccount: 2, maxPerAddress: 5, windowSeconds: WINDOW })
  const ip = '192.0.2.10'
  t.same(await throttle.attempt('Ada', ip), { allowed: true })
  t.same(await throttle.attempt('ADA', ip), { allowed: true }, 'the account is named without regard to case')
  t.equal(await count(pairKey('ada', ip)), '2')
  t.equal(await count(addressKey(ip)), '2')
  const refused = await throttle.attempt('ada', ip)
  t.equal(refused.allowed, false)
  t.ok(!refused.allowed && refused.retryAfterSeconds > WINDOW - 5 && refused.retryAfterSeconds <= WINDOW, JSON.stringify(refused))
  t.equal(await count(pairKey('ada', ip)), '2', 'a refused attempt is not counted…')
  t.equal(await count(addressKey(ip)), '2', '…in either budget')
  t.same(await throttle.attempt('ada', '192.0.2.11'), { allowed: true }, 'the same account from another address still may')
  t.same(await throttle.attempt('grace', ip), { allowed: true }, 'another account from the same address still may')
  t.equal(await count(addressKey(ip)), '3')
})

t.test('the address budget is spent by attempts on any account, and refuses them all', async (t) => {
  const throttle = new LoginThrottle(redis, { maxPerAccount: 10, maxPerAddress: 3, windowSeconds: WINDOW })
  const ip = '192.0.2.20'
  for (const name of ['a1', 'a2', 'a3']) t.same(await throttle.attempt(name, ip), { allowed: true }, name)
  const refused = await throttle.attempt('a4', ip)
  t.equal(refused.allowed, false, 'the fourth account is refused: the address has no room')
  t.equal(await count(pairKey('a4', ip)), null, 'and nothing was counted for it')
  t.equal(await count(addressKey(ip)), '3')
})

t.test('an IPv6 client is counted by its /64, an IPv4-mapped one as its IPv4 address', async (t) => {
  const throttle = new LoginThrottle(redis, { maxPerAccount: 10, maxPerAddress: 2, windowSeconds: WINDOW })
  t.same(await throttle.attempt('b', '2001:db8:7:8::1'), { allowed: true })
  t.same(await throttle.attempt('c', '2001:db8:7:8:ffff::2'), { allowed: true })
  t.equal((await throttle.attempt('d', '2001:db8:7:8::3')).allowed, false)
  t.equal(await count('login-failures:address:2001:db8:7:8::/64'), '2')
  t.same(await throttle.attempt('e', '::ffff:192.0.2.30'), { allowed: true })
  t.equal(await count('login-failures:address:192.0.2.30'), '1')
})

t.test('the window starts at the first attempt and is not extended by later ones', async (t) => {
  const throttle = new LoginThrottle(redis, { maxPerAccount: 5, maxPerAddress: 5, windowSeconds: WINDOW })
  const ip = '192.0.2.40'
  await throttle.attempt('f', ip)
  for (const key of [pairKey('f', ip), addressKey(ip)]) {
    const ttl = await redis.ttl(key)
    t.ok(ttl > WINDOW - 5 && ttl <= WINDOW, `${key}: ${ttl}`)
  }
  await redis.expire(pairKey('f', ip), 100)
  await redis.expire(addressKey(ip), 100)
  await throttle.attempt('f', ip)
  for (const key of [pairKey('f', ip), addressKey(ip)]) t.ok(await redis.ttl(key) <= 100, `${key} keeps its expiry`)
})

t.test('a refusal asks to wait for the budget that is free last', async (t) => {
  const budgets = new AttemptBudgets(redis)
  await redis.set('wait:short', '3', 'EX', 30)
  await redis.set('wait:long', '3', 'EX', 200)
  await redis.set('wait:room', '0', 'EX', 500)
  t.same(await budgets.take([{ key: 'wait:short', max: 3 }, { key: 'wait:long', max: 3 }, { key: 'wait:room', max: 3 }], WINDOW),
    { allowed: false, retryAfterSeconds: 200 }, 'the longer of the two full budgets, not the one with room')
  t.same(await budgets.take([{ key: 'wait:long', max: 3 }, { key: 'wait:short', max: 3 }], WINDOW),
    { allowed: false, retryAfterSeconds: 200 }, 'whatever their order')
  t.equal(await count('wait:room'), '0', 'nothing counted in the budget that had room')
  t.same(await budgets.take([{ key: 'wait:short', max: 4 }], WINDOW), { allowed: true }, 'a budget one above the count has room')
  t.equal(await count('wait:short'), '4')
  // A full budget without an expiry (it should not happen, but a refusal must still say something true).
  await redis.set('wait:forever', '9')
  t.same(await budgets.take([{ key: 'wait:forever', max: 9 }], WINDOW), { allowed: false, retryAfterSeconds: WINDOW })
})

t.test('a right password gives back its address attempt and forgets the pair, never below zero', async (t) => {
  const throttle = new LoginThrottle(redis, { maxPerAccount: 5, maxPerAddress: 5, windowSeconds: WINDOW })
  const ip = '192.0.2.50'
  await throttle.attempt('g', ip)
  await throttle.attempt('g', ip)
  await throttle.attempt('h', ip)
  t.equal(await count(addressKey(ip)), '3')
  await throttle.succeeded('G', ip)
  t.equal(await count(addressKey(ip)), '2', 'one attempt given back')
  t.equal(await count(pairKey('g', ip)), null, 'the pair forgotten')
  t.equal(await count(pairKey('h', ip)), '1', 'other pairs untouched')
  await throttle.succeeded('h', ip)
  await throttle.succeeded('h', ip)
  await throttle.succeeded('h', ip)
  t.equal(await count(addressKey(ip)), '0', 'never below zero')
  await throttle.succeeded('i', '192.0.2.51')
  t.equal(await count(addressKey('192.0.2.51')), null, 'nothing created for an address never counted')
})

t.test('giving back takes one from every budget named', async (t) => {
  const budgets = new AttemptBudgets(redis)
  await redis.set('back:a', '2')
  await redis.set('back:b', '1')
  await budgets.giveBack(['back:a', 'back:b'])
  t.same([await count('back:a'), await count('back:b')], ['1', '0'])
})

t.test('a per-address limit counts every attempt under its own name, by client address', async (t) => {
  const limit = new AddressLimit(redis, { name: 'register', max: 2, windowSeconds: 60 })
  t.same(await limit.attempt('2001:db8:9:9::1'), { allowed: true })
  t.same(await limit.attempt('2001:db8:9:9::2'), { allowed: true })
  const refused = await limit.attempt('2001:db8:9:9::3')
  t.equal(refused.allowed, false)
  t.ok(!refused.allowed && refused.retryAfterSeconds > 55 && refused.retryAfterSeconds <= 60, JSON.stringify(refused))
  t.equal(await count('register:address:2001:db8:9:9::/64'), '2')
  t.same(await limit.attempt('192.0.2.60'), { allowed: true }, 'another address has its own budget')
  t.same(await new AddressLimit(redis, { name: 'other', max: 1, windowSeconds: 60 }).attempt('2001:db8:9:9::1'), { allowed: true }, 'and another limit its own')
})

t.test('budgets on a client of their own define their commands on it', async (t) => {
  const fresh = new Redis(infra.redisUrl, { keyPrefix: prefix })
  t.teardown(() => fresh.disconnect())
  t.same(await new AttemptBudgets(fresh).take([{ key: 'fresh:a', max: 1 }], WINDOW), { allowed: true })
  t.equal((await new AttemptBudgets(fresh).take([{ key: 'fresh:a', max: 1 }], WINDOW)).allowed, false, 'a second set of budgets on the same client works too')
})
