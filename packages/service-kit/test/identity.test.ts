import { createHmac } from 'node:crypto'
import t from 'tap'
import { signAssertion, signIdentity, verifyAssertion } from '../src/identity.js'

// The identity assertion the gateway signs and every service verifies, on its own: its exact
// claims, every reason it is refused, and the edges of its lifetime.

const SECRET = 'identity-test-secret-0123456789abcdef'
const PREVIOUS = 'identity-test-previous-0123456789abcdef'
const NOW = 1_800_000_000_500
const ADA = { userId: 'u-ada', role: 'user' as const, timezone: 'Europe/London' }

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>
/** An assertion with any claims at all, validly signed (the MAC as the format defines it: HMAC-SHA256 over `v1.<body>`). */
const forge = (claims: unknown, secret = SECRET) => {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url')
  return `v1.${body}.${createHmac('sha256', secret).update(`v1.${body}`).digest('base64url')}`
}
const valid = { sub: 'u-ada', role: 'user', tz: 'UTC', ip: '192.0.2.1', aud: 'mood', iat: 1_800_000_000, exp: 1_800_000_030 }

t.test('an assertion carries exactly the user, address, audience and lifetime', async (t) => {
  const token = signAssertion({ user: ADA, clientIp: '192.0.2.1', audience: 'mood', requestId: 'req-1' }, SECRET, 60, NOW)
  t.match(token, /^v1\.[\w-]+\.[\w-]{43}$/)
  t.same(claimsOf(token), { sub: 'u-ada', role: 'user', tz: 'Europe/London', ip: '192.0.2.1', aud: 'mood', iat: 1_800_000_000, exp: 1_800_000_060, rid: 'req-1' })
  t.same(verifyAssertion(token, [SECRET], 'mood', NOW), {
    ok: true, assertion: { user: ADA, clientIp: '192.0.2.1', audience: 'mood', requestId: 'req-1' }, expiresAt: 1_800_000_065_000
  })
})

t.test('an anonymous assertion without a request id has neither', async (t) => {
  const token = signAssertion({ user: null, clientIp: '2001:db8::1', audience: 'auth' }, SECRET, undefined, NOW)
  t.same(claimsOf(token), { sub: null, role: null, tz: null, ip: '2001:db8::1', aud: 'auth', iat: 1_800_000_000, exp: 1_800_000_030 }, 'lives 30 s by default')
  const result = verifyAssertion(token, [SECRET], 'auth', NOW)
  t.same(result, { ok: true, assertion: { user: null, clientIp: '2001:db8::1', audience: 'auth' }, expiresAt: 1_800_000_035_000 })
  t.notOk(result.ok && 'requestId' in result.assertion, 'no requestId key at all')
})

t.test('signIdentity is a logged-in user\'s assertion from 127.0.0.1 unless told otherwise', async (t) => {
  const token = signIdentity({ ...ADA, role: 'admin', requestId: 'r2', audience: 'contact' }, SECRET, undefined, NOW)
  t.same(claimsOf(token), { sub: 'u-ada', role: 'admin', tz: 'Europe/London', ip: '127.0.0.1', aud: 'contact', iat: 1_800_000_000, exp: 1_800_000_030, rid: 'r2' })
  t.same(claimsOf(signIdentity({ ...ADA, requestId: 'r3', audience: 'mood' }, SECRET, 10, NOW, '198.51.100.7')).ip, '198.51.100.7')
  const fresh = claimsOf(signIdentity({ ...ADA, requestId: 'r4', audience: 'mood' }, SECRET))
  t.ok(Math.abs((fresh.iat as number) - Date.now() / 1000) < 5, 'signed now by default')
})

t.test('the secret being rotated out is still accepted; any other is not', async (t) => {
  const old = signAssertion({ user: ADA, clientIp: '192.0.2.1', audience: 'mood' }, PREVIOUS, 30, NOW)
  t.equal(verifyAssertion(old, [SECRET, PREVIOUS], 'mood', NOW).ok, true)
  t.same(verifyAssertion(old, [SECRET], 'mood', NOW), { ok: false, reason: 'bad-signature' })
  t.same(verifyAssertion(old, [], 'mood', NOW), { ok: false, reason: 'bad-signature' })
  const token = signAssertion({ user: ADA, clientIp: '192.0.2.1', audience: 'mood' }, SECRET, 30, NOW)
  const [version, body, mac] = token.split('.') as [string, string, string]
  t.same(verifyAssertion(`${version}.${body}.${mac.slice(0, -2)}`, [SECRET], 'mood', NOW), { ok: false, reason: 'bad-signature' }, 'a shortened MAC')
  t.same(verifyAssertion(`${version}.${body}.${mac}AA`, [SECRET], 'mood', NOW), { ok: false, reason: 'bad-signature' }, 'a lengthened MAC')
  const otherBody = Buffer.from(JSON.stringify({ ...claimsOf(token), sub: 'u-eve' })).toString('base64url')
  t.same(verifyAssertion(`${version}.${otherBody}.${mac}`, [SECRET], 'mood', NOW), { ok: false, reason: 'bad-signature' }, 'claims changed under the MAC')
})

t.test('missing and malformed assertions are told apart', async (t) => {
  t.same(verifyAssertion(undefined, [SECRET], 'mood', NOW), { ok: false, reason: 'missing' })
  t.same(verifyAssertion('', [SECRET], 'mood', NOW), { ok: false, reason: 'missing' })
  const token = forge(valid)
  for (const bad of ['v1.abc', `${token}.x`, token.replace(/^v1/, 'v2'), 'v1..', 'garbage']) {
    t.same(verifyAssertion(bad, [SECRET], 'mood', NOW), { ok: false, reason: bad === 'v1..' ? 'bad-signature' : 'malformed' }, bad)
  }
})

t.test('a validly signed assertion with claims of the wrong shape is malformed', async (t) => {
  const body = Buffer.from('{not json').toString('base64url')
  const notJson = `v1.${body}.${createHmac('sha256', SECRET).update(`v1.${body}`).digest('base64url')}`
  const cases: [string, unknown][] = [
    ['not JSON', undefined],
    ['null', null],
    ['a number', 42],
    ['exp not a number', { ...valid, exp: '1800000030' }],
    ['no exp', { ...valid, exp: undefined }],
    ['iat not a number', { ...valid, iat: '1800000000' }],
    ['rid not a string', { ...valid, rid: 7 }],
    ['ip not a string', { ...valid, ip: null }],
    ['aud not a string', { ...valid, aud: ['mood'] }],
    ['sub not a string', { ...valid, sub: 12 }],
    ['an unknown role', { ...valid, role: 'root' }],
    ['no role for a user', { ...valid, role: null }],
    ['tz not a string', { ...valid, tz: null }]
  ]
  for (const [what, claims] of cases) {
    t.same(verifyAssertion(what === 'not JSON' ? notJson : forge(claims), [SECRET], 'mood', NOW), { ok: false, reason: 'malformed' }, what)
  }
  t.same(verifyAssertion(forge({ ...valid, role: 'admin' }), [SECRET], 'mood', NOW), {
    ok: true, assertion: { user: { userId: 'u-ada', role: 'admin', timezone: 'UTC' }, clientIp: '192.0.2.1', audience: 'mood' }, expiresAt: 1_800_000_035_000
  }, 'the admin role is a role')
  t.same(verifyAssertion(forge({ ...valid, rid: 'req-9' }), [SECRET], 'mood', NOW), {
    ok: true, assertion: { user: { userId: 'u-ada', role: 'user', timezone: 'UTC' }, clientIp: '192.0.2.1', audience: 'mood', requestId: 'req-9' }, expiresAt: 1_800_000_035_000
  })
})

t.test('an assertion for another service is refused, before its lifetime is looked at', async (t) => {
  t.same(verifyAssertion(forge(valid), [SECRET], 'auth', NOW), { ok: false, reason: 'wrong-audience' })
  t.same(verifyAssertion(forge({ ...valid, exp: 1 }), [SECRET], 'auth', NOW), { ok: false, reason: 'wrong-audience' })
})

t.test('the lifetime allows 5 s of clock skew either way, and not a millisecond more', async (t) => {
  const token = forge(valid)
  const at = (ms: number) => verifyAssertion(token, [SECRET], 'mood', ms).ok
  t.equal(at(1_800_000_035_000), true, 'exp + 5 s')
  t.equal(at(1_800_000_035_001), false, 'just after')
  t.same(verifyAssertion(token, [SECRET], 'mood', 1_800_000_035_001), { ok: false, reason: 'expired' })
  t.equal(at(1_799_999_995_000), true, 'iat − 5 s (the gateway\'s clock ahead)')
  t.equal(at(1_799_999_994_999), false, 'just before')
  t.same(verifyAssertion(token, [SECRET], 'mood', 1_799_999_994_999), { ok: false, reason: 'expired' })
  t.equal(verifyAssertion(signAssertion({ user: ADA, clientIp: '192.0.2.1', audience: 'mood' }, SECRET), [SECRET], 'mood').ok, true, 'now by default')
})
