import { randomBytes } from 'node:crypto'
import { generate } from 'otplib'
import t from 'tap'
import { build, cookieHeader, type TestAuth } from './helper.js'
import { TokenCipher } from '../src/tokens/token-cipher.js'
import { rotateTwoFactorKeys } from '../src/two-factor/rotate-keys.js'
import { json, registerAccount, type Account } from './account-flows.js'

/** The code an authenticator app shows `steps` 30-second steps from now. */
const codeAt = async (secret: string, steps = 0) => await generate({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 })

async function enrol (auth: TestAuth, account: Account): Promise<{ secret: string, recoveryCodes: string[] }> {
  const setup = await auth.app.inject({ method: 'POST', url: '/auth/two-factor/setup', headers: account.headers })
  const { secret } = json(setup) as { secret: string }
  const enable = await auth.app.inject({ method: 'POST', url: '/auth/two-factor/enable', headers: account.headers, payload: { code: await codeAt(secret) } })
  if (enable.statusCode !== 200) throw new Error(`enable: ${enable.statusCode} ${enable.body}`)
  return { secret, recoveryCodes: json(enable).recoveryCodes }
}

const login = (auth: TestAuth, account: Account, ip = '10.0.0.5') =>
  auth.app.inject({ method: 'POST', url: '/auth/login', headers: auth.from(ip), payload: { username: account.username, password: account.password } })
const secondStep = (auth: TestAuth, challenge: string, code: string, ip = '10.0.0.5') =>
  auth.app.inject({ method: 'POST', url: '/auth/login/two-factor', headers: auth.from(ip), payload: { challenge, code } })

t.test('enrolment: an otpauth URI and a QR code, confirmed by a first code; the seed is encrypted, the recovery codes hashed', async (t) => {
  const auth = await build(t)
  const ada = await registerAccount(auth, 'ada')
  const setup = await auth.app.inject({ method: 'POST', url: '/auth/two-factor/setup', headers: ada.headers })
  t.equal(setup.statusCode, 200)
  const { secret, otpauthUri, qrCodeDataUrl } = json(setup)
  t.match(otpauthUri, /^otpauth:\/\/totp\/Pulse:ada\?/)
  t.match(otpauthUri, `secret=${secret}`)
  t.match(qrCodeDataUrl, /^data:image\/png;base64,/)
  const row = await auth.db.selectFrom('two_factor').selectAll().executeTakeFirstOrThrow()
  t.not(row.secret, secret)
  t.notMatch(row.secret, secret, 'the seed is not stored in the clear')
  t.equal(row.enabled_at, null, 'not on before the first code')

  const wrong = await auth.app.inject({ method: 'POST', url: '/auth/two-factor/enable', headers: ada.headers, payload: { code: (Number(await codeAt(secret)) ^ 1).toString().padStart(6, '0') } })
  t.equal(wrong.statusCode, 403)
  t.equal(json(wrong).code, 'AUTH_WRONG_CODE')
  const notDigits = await auth.app.inject({ method: 'POST', url: '/auth/two-factor/enable', headers: ada.headers, payload: { code: 'abcdef' } })
  t.equal(notDigits.statusCode, 400)
  t.match(json(notDigits).message, /body\/code/)

  const enable = await auth.app.inject({ method: 'POST', url: '/auth/two-factor/enable', headers: ada.headers, payload: { code: await codeAt(secret) } })
  t.equal(enable.statusCode, 200)
  const { recoveryCodes } = json(enable)
  t.equal(recoveryCodes.length, 10)
  t.equal(new Set(recoveryCodes).size, 10)
  for (const code of recoveryCodes) t.match(code, /^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/)
  const hashes = await auth.db.selectFrom('recovery_codes').select('code_hash').execute()
  t.equal(hashes.length, 10)
  t.notOk(hashes.some((h) => recoveryCodes.includes(h.code_hash) || h.code_hash.includes(recoveryCodes[0].slice(0, 4))), 'stored hashed')
  const security = await auth.app.inject({ method: 'GET', url: '/auth/security', headers: ada.headers })
  t.match(json(security), { twoFactorEnabled: true, recoveryCodesLeft: 10, hasPassword: true, email: null, emailVerified: false })
  t.equal((await auth.app.inject({ method: 'POST', url: '/auth/two-factor/setup', headers: ada.headers })).statusCode, 409, 'no second enrolment while on')
})

t.test('login asks for a code; a wrong code fails, a right one logs in once, and cannot be replayed', async (t) => {
  const auth = await build(t)
  const ada = await registerAccount(auth, 'ada')
  const { secret } = await enrol(auth, ada)

  const first = await login(auth, ada)
  t.equal(first.statusCode, 202)
  t.match(json(first), { twoFactorRequired: true, challenge: String, expiresAt: String })
  t.equal(first.cookies.length, 0, 'no session before the code')
  const { challenge } = json(first)

  const wrong = await secondStep(auth, challenge, (Number(await codeAt(secret, 1)) ^ 1).toString().padStart(6, '0'))
  t.equal(wrong.statusCode, 401)
  t.equal(json(wrong).code, 'AUTH_INVALID_CODE')
  t.equal((await secondStep(auth, 'not-a-challenge', await codeAt(secret, 1))).statusCode, 401, 'a forged challenge fails')

  const code = await codeAt(secret, 1) // the enrolment used this step's code
  const ok = await secondStep(auth, challenge, code)
  t.equal(ok.statusCode, 200)
  t.equal(json(ok).user.username, 'ada')
  t.ok(cookieHeader(ok), 'a session')
  t.equal((await secondStep(auth, challenge, code)).statusCode, 401, 'the challenge is closed')

  const again = json(await login(auth, ada)).challenge
  const replay = await secondStep(auth, again, code)
  t.equal(replay.statusCode, 401, 'the same code again is refused within its window')
  t.equal(json(replay).code, 'AUTH_INVALID_CODE')
  t.equal((await secondStep(auth, again, await codeAt(secret, 0))).statusCode, 401, 'so is an earlier step\'s code')
})

t.test('a recovery code signs in once', async (t) => {
  const auth = await build(t)
  const ada = await registerAccount(auth, 'ada')
  const { recoveryCodes } = await enrol(auth, ada)
  const used = recoveryCodes[3]!
  t.equal((await secondStep(auth, json(await login(auth, ada)).challenge, used.toLowerCase())).statusCode, 200, 'case and dashes do not matter')
  const twice = await secondStep(auth, json(await login(auth, ada)).challenge, used)
  t.equal(twice.statusCode, 401, 'used twice: refused')
  t.equal(json(twice).code, 'AUTH_INVALID_CODE')
  const security = await auth.app.inject({ method: 'GET', url: '/auth/security', headers: ada.headers })
  t.equal(json(security).recoveryCodesLeft, 9)
})

t.test('codes are throttled like passwords: per account and address, and per account', async (t) => {
  const auth = await build(t, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', TWO_FACTOR_MAX_FAILURES_PER_ACCOUNT: '5' })
  const ada = await registerAccount(auth, 'ada')
  const { secret } = await enrol(auth, ada)
  const challenge = json(await login(auth, ada, '10.2.0.1')).challenge
  const wrong = async () => (Number(await codeAt(secret, 1)) ^ 1).toString().padStart(6, '0')
  for (let i = 0; i < 3; i++) t.equal((await secondStep(auth, challenge, await wrong(), '10.2.0.1')).statusCode, 401)
  const blocked = await secondStep(auth, challenge, await codeAt(secret, 1), '10.2.0.1')
  t.equal(blocked.statusCode, 429, 'even the right code waits once the address has failed too often')
  t.equal(json(blocked).code, 'AUTH_TOO_MANY_CODES')
  t.ok(Number(blocked.headers['retry-after']) > 0)
  for (let i = 0; i < 2; i++) t.equal((await secondStep(auth, challenge, await wrong(), '10.2.0.2')).statusCode, 401)
  t.equal((await secondStep(auth, challenge, await codeAt(secret, 1), '10.2.0.3')).statusCode, 429, 'the account budget holds across addresses')
  const rows = await auth.db.selectFrom('two_factor').select('last_time_step').executeTakeFirstOrThrow()
  t.ok(rows.last_time_step !== null)
})

t.test('turning two-factor off needs a code or the password', async (t) => {
  const auth = await build(t)
  const ada = await registerAccount(auth, 'ada')
  const { secret } = await enrol(auth, ada)
  const none = await auth.app.inject({ method: 'POST', url: '/auth/two-factor/disable', headers: ada.headers, payload: {} })
  t.equal(none.statusCode, 400)
  t.equal(json(none).code, 'AUTH_PROOF_REQUIRED')
  const badPassword = await auth.app.inject({ method: 'POST', url: '/auth/two-factor/disable', headers: ada.headers, payload: { password: 'not the password' } })
  t.equal(badPassword.statusCode, 403)
  t.equal(json(badPassword).code, 'AUTH_WRONG_PASSWORD')
  const off = await auth.app.inject({ method: 'POST', url: '/auth/two-factor/disable', headers: ada.headers, payload: { code: await codeAt(secret, 1) } })
  t.equal(off.statusCode, 204)
  t.equal((await login(auth, ada)).statusCode, 200, 'login needs no code any more')
  t.equal((await auth.db.selectFrom('recovery_codes').selectAll().execute()).length, 0, 'recovery codes deleted')
  await enrol(auth, ada)
  const byPassword = await auth.app.inject({ method: 'POST', url: '/auth/two-factor/disable', headers: ada.headers, payload: { password: ada.password } })
  t.equal(byPassword.statusCode, 204)
})

t.test('a key rotation re-encrypts TOTP seeds; codes keep working under the new key alone', async (t) => {
  const oldKeys = `old:${randomBytes(32).toString('base64')}`
  const before = await build(t, { TOKEN_ENCRYPTION_KEYS: oldKeys })
  const ada = await registerAccount(before, 'ada')
  const { secret } = await enrol(before, ada)
  const newKey = `new:${randomBytes(32).toString('base64')}`
  const result = await rotateTwoFactorKeys(before.db, TokenCipher.fromSetting(`${newKey},${oldKeys}`))
  t.same(result, { reencrypted: 1, failed: [] })
  t.equal((await before.db.selectFrom('two_factor').select('key_id').executeTakeFirstOrThrow()).key_id, 'new')
  const after = await build(t, { DATABASE_URL: before.config.DATABASE_URL, TOKEN_ENCRYPTION_KEYS: newKey })
  const challenge = json(await login(after, ada)).challenge
  t.equal((await secondStep(after, challenge, await codeAt(secret, 1))).statusCode, 200, 'the old key is no longer needed')
})
