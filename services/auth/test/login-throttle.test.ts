import { IDENTITY_HEADER, signIdentity } from '@pulse/service-kit'
import argon2 from 'argon2'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { IDENTITY_SECRET, build, type TestAuth } from './helper.js'

const PASSWORD = 'the right password'

const login = (auth: TestAuth, username: string, password: string, ip: string, headers: Record<string, string> = auth.from(ip)) =>
  auth.app.inject({ method: 'POST', url: '/auth/login', headers, payload: { username, password } })
const register = (auth: TestAuth, username: string, ip: string) =>
  auth.app.inject({ method: 'POST', url: '/auth/register', headers: auth.from(ip), payload: { username, password: PASSWORD } })

/** Counts the password checks that reach argon2 while `fn` runs. */
async function countingVerifications<T> (fn: () => Promise<T>): Promise<{ result: T, verifications: number }> {
  const original = argon2.verify
  let verifications = 0
  argon2.verify = async (...args: Parameters<typeof argon2.verify>) => { verifications++; return await original(...args) }
  try {
    return { result: await fn(), verifications }
  } finally {
    argon2.verify = original
  }
}

t.test('60 concurrent wrong passwords for one account: at most the limit reach the password check', async (t) => {
  const auth = await build(t, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '5' })
  t.equal((await register(auth, 'target', '10.9.0.1')).statusCode, 201)
  const { result, verifications } = await countingVerifications(() =>
    Promise.all(Array.from({ length: 60 }, (_, i) => login(auth, 'target', `wrong guess ${i}`, '203.0.113.50'))))
  t.ok(verifications <= 5, `${verifications} password checks`)
  const statuses = result.map((r) => r.statusCode)
  t.equal(statuses.filter((s) => s === 401).length, verifications, 'each check answered 401')
  t.equal(statuses.filter((s) => s === 429).length, 60 - verifications, 'the rest were refused before it')
  const refused = result.find((r) => r.statusCode === 429)!
  t.equal(refused.json().code, 'AUTH_TOO_MANY_ATTEMPTS')
  t.ok(Number(refused.headers['retry-after']) > 0)
  t.equal((await login(auth, 'target', PASSWORD, '198.51.100.9')).statusCode, 200, 'the owner still logs in from elsewhere')
})

t.test('a right password gives its attempt back', async (t) => {
  const auth = await build(t, { LOGIN_MAX_FAILURES_PER_ADDRESS: '2' })
  t.equal((await register(auth, 'often', '10.9.0.2')).statusCode, 201)
  for (let i = 0; i < 5; i++) t.equal((await login(auth, 'often', PASSWORD, '203.0.113.51')).statusCode, 200, `login ${i + 1}`)
  t.equal((await login(auth, 'often', 'wrong one', '203.0.113.51')).statusCode, 401)
  t.equal((await login(auth, 'often', 'wrong two', '203.0.113.51')).statusCode, 401)
  t.equal((await login(auth, 'often', PASSWORD, '203.0.113.51')).statusCode, 429, 'two failures spend the address budget')
})

t.test('the address budget counts by client address, sessions or not, and an IPv6 address by its /64', async (t) => {
  const auth = await build(t, { LOGIN_MAX_FAILURES_PER_ADDRESS: '3' })
  // Each attempt from a different throwaway account's session, a different target and another address in one /64.
  const attempts = ['2001:db8:1:2::1', '2001:db8:1:2::abcd', '2001:db8:1:2:ffff::9'].map((ip, i) => {
    const asUser = { [IDENTITY_HEADER]: signIdentity({ userId: randomUUID(), role: 'user', timezone: 'UTC', requestId: 'r', audience: 'auth' }, IDENTITY_SECRET, 30, Date.now(), ip) }
    return login(auth, `victim${i}`, 'wrong password', ip, asUser)
  })
  for (const res of await Promise.all(attempts)) t.equal(res.statusCode, 401)
  t.equal((await login(auth, 'victim9', 'wrong password', '2001:db8:1:2:1234::1')).statusCode, 429, 'the whole /64 is spent')
  t.equal((await login(auth, 'victim9', 'wrong password', '2001:db8:1:3::1')).statusCode, 401, 'the next /64 is not')
  t.equal((await login(auth, 'victim9', 'wrong password', '::ffff:192.0.2.1')).statusCode, 401)
})

t.test('registrations are limited per address (each costs an argon2 hash), with retry-after', async (t) => {
  const auth = await build(t, { REGISTER_MAX_PER_ADDRESS: '2', REGISTER_WINDOW_S: '600' })
  t.equal((await register(auth, 'first', '2001:db8:5:6::1')).statusCode, 201)
  t.equal((await register(auth, 'second', '2001:db8:5:6::2')).statusCode, 201)
  const third = await register(auth, 'third', '2001:db8:5:6:7::3')
  t.equal(third.statusCode, 429)
  t.equal(third.json().code, 'AUTH_TOO_MANY_REGISTRATIONS')
  const retryAfter = Number(third.headers['retry-after'])
  t.ok(retryAfter > 0 && retryAfter <= 600, `retry-after ${retryAfter}`)
  t.equal((await auth.db.selectFrom('users').select('username').execute()).length, 2, 'nothing stored')
  t.equal((await register(auth, 'third', '192.0.2.77')).statusCode, 201, 'another address still registers')
})
