import { randomBytes } from 'node:crypto'
import t from 'tap'
import { loadAuthConfig } from '../src/config.js'
import { TokenCipher, parseKeyring } from '../src/tokens/token-cipher.js'

const key = () => randomBytes(32).toString('base64')

t.test('values round-trip, with a fresh IV each time and the key id recorded', async (t) => {
  const cipher = TokenCipher.fromSetting(`k1:${key()}`)
  const a = cipher.encrypt('the-access-token', 'ctx')
  const b = cipher.encrypt('the-access-token', 'ctx')
  t.not(a, b, 'the same plaintext encrypts differently')
  t.notMatch(a, /the-access-token/)
  t.match(a, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/, 'v1.<96-bit iv>.<ciphertext>.<128-bit tag>')
  t.equal(cipher.currentKeyId, 'k1')
  t.equal(cipher.decrypt(a, 'k1', 'ctx'), 'the-access-token')
  t.equal(cipher.decrypt(b, 'k1', 'ctx'), 'the-access-token')
})

t.test('an altered value, a value moved to another context or a truncated tag does not decrypt', async (t) => {
  const cipher = TokenCipher.fromSetting(`k1:${key()}`)
  const value = cipher.encrypt('secret-refresh-token', 'pulse-auth:twitch:1:refresh_token')
  const [v, iv, body, tag] = value.split('.') as [string, string, string, string]
  const flipped = Buffer.from(body, 'base64url')
  flipped[0] = flipped[0]! ^ 1
  t.throws(() => cipher.decrypt([v, iv, flipped.toString('base64url'), tag].join('.'), 'k1', 'pulse-auth:twitch:1:refresh_token'))
  t.throws(() => cipher.decrypt(value, 'k1', 'pulse-auth:twitch:2:refresh_token'), 'another user\'s row')
  t.throws(() => cipher.decrypt(value, 'k1', 'pulse-auth:twitch:1:access_token'), 'another column')
  t.throws(() => cipher.decrypt([v, iv, body, tag.slice(0, 6)].join('.'), 'k1', 'pulse-auth:twitch:1:refresh_token'), 'a truncated tag')
  t.throws(() => cipher.decrypt(value, 'k2', 'pulse-auth:twitch:1:refresh_token'), /key "k2" is not configured/)
})

t.test('the first key encrypts, every listed key decrypts', async (t) => {
  const oldKey = key()
  const before = TokenCipher.fromSetting(`old:${oldKey}`)
  const value = before.encrypt('token', 'ctx')
  const after = TokenCipher.fromSetting(`new:${key()},old:${oldKey}`)
  t.equal(after.currentKeyId, 'new')
  t.equal(after.decrypt(value, 'old', 'ctx'), 'token')
  t.equal(after.decrypt(after.encrypt('token', 'ctx'), 'new', 'ctx'), 'token')
})

t.test('TOKEN_ENCRYPTION_KEYS is validated and production refuses the development keys', async (t) => {
  t.throws(() => parseKeyring(''), /at least one key/)
  t.throws(() => parseKeyring('nokid'), /entry 1/)
  t.throws(() => parseKeyring(`k1:${randomBytes(16).toString('base64')}`), /key "k1" must be 32 bytes/)
  t.throws(() => parseKeyring(`k1:${key()},k1:${key()}`), /listed twice/)
  t.throws(() => loadAuthConfig({ TOKEN_ENCRYPTION_KEYS: 'k1:short' }), /TOKEN_ENCRYPTION_KEYS key "k1" must be 32 bytes/)
  const production = { NODE_ENV: 'production', IDENTITY_SECRET: 'x'.repeat(40), SESSION_SECRET: 'y'.repeat(40), TWITCH_CLIENT_SECRET: 'real-twitch-secret-of-30-chars', TWITTER_API_SECRET: 'a-real-x-consumer-secret-of-fifty-characters-00000' }
  t.throws(() => loadAuthConfig(production), /TOKEN_ENCRYPTION_KEYS still has its development value/)
  t.throws(() => loadAuthConfig({ ...production, TOKEN_ENCRYPTION_KEYS: `k1:${key()}`, TWITCH_CLIENT_SECRET: '' }), /TWITCH_CLIENT_SECRET is \(or lists\) a development value/)
  t.ok(loadAuthConfig({ ...production, TOKEN_ENCRYPTION_KEYS: `k1:${key()}` }), 'real secrets are accepted')
  const message = (() => { try { loadAuthConfig({ TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(31).toString('base64')}` }) } catch (e) { return (e as Error).message } })()
  t.notMatch(String(message), /[A-Za-z0-9+/]{40}/, 'the error does not repeat the key')
})
