import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { signIn } from './browser.js'
import { build, startSim, storedTokens, type TestAuth } from './helper.js'

const sim = await startSim(t)
const run = promisify(execFile)
const key = () => randomBytes(32).toString('base64')
/** The documented command, in a process of its own (without the test runner's instrumentation). */
const rotateTokenKeys = (env: Record<string, string>) => run('pnpm', ['run', '--silent', 'rotate-token-keys'], {
  cwd: fileURLToPath(new URL('..', import.meta.url)),
  env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !/^_?TAP/.test(k))), ...env }
})

async function connect (auth: TestAuth, login: string) {
  const { userId } = await signIn(auth, 'twitch', login)
  return (await storedTokens(auth, userId)).row
}

t.test('tokens are stored as AES-GCM ciphertexts under the current key id, never in plaintext', async (t) => {
  const auth = await build(t, { TOKEN_ENCRYPTION_KEYS: `k1:${key()}` }, { sim })
  const row = await connect(auth, 'sim_mid')
  const reply = await auth.inner.tokens.handle({ userId: row.user_id, provider: 'twitch' })
  if (!reply.ok) throw new Error('no token')
  t.equal(row.key_id, 'k1')
  for (const column of [row.access_token, row.refresh_token!]) t.match(column, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
  t.equal(row.token_secret, null, 'Twitch has no token secret')
  const stored = JSON.stringify(row)
  t.notOk(stored.includes(reply.accessToken), 'the access token is nowhere in the row')
  t.ok(row.expires_at !== null && row.expires_at.getTime() > sim.control.now(), 'the expiry is kept in clear')
  t.same(row.scopes, ['moderator:read:followers', 'channel:read:subscriptions', 'user:read:follows', 'bits:read'])
})

t.test('after a key rotation old ciphertexts still decrypt, and rotate-token-keys re-encrypts them all with the new key', async (t) => {
  const oldKey = `old:${key()}`
  const newKeys = `new:${key()},${oldKey}`
  const before = await build(t, { TOKEN_ENCRYPTION_KEYS: oldKey }, { sim })
  const first = await connect(before, 'sim_mid')
  const second = await connect(before, 'sim_big')
  const original = await before.inner.tokens.handle({ userId: first.user_id, provider: 'twitch' })
  if (!original.ok) throw new Error('no token')

  const rotated = await build(t, { DATABASE_URL: before.config.DATABASE_URL, TOKEN_ENCRYPTION_KEYS: newKeys }, { sim })
  t.match(await rotated.inner.tokens.handle({ userId: first.user_id, provider: 'twitch' }), { ok: true, accessToken: original.accessToken },
    'a token written under the old key decrypts with the old key still listed')

  const { stdout, stderr } = await rotateTokenKeys({ DATABASE_URL: before.config.DATABASE_URL, TOKEN_ENCRYPTION_KEYS: newKeys })
  t.match(stdout + stderr, /re-encrypted 2 connection\(s\) with key "new"/)
  const rows = await before.db.selectFrom('connections').selectAll().orderBy('id').execute()
  t.same(rows.map((r) => r.key_id), ['new', 'new'])
  const byId = new Map([first, second].map((r) => [r.id, r]))
  for (const row of rows) {
    t.not(row.access_token, byId.get(row.id)!.access_token, 'a new ciphertext')
    t.not(row.refresh_token, byId.get(row.id)!.refresh_token)
  }

  const newOnly = await build(t, { DATABASE_URL: before.config.DATABASE_URL, TOKEN_ENCRYPTION_KEYS: newKeys.split(',')[0]! }, { sim })
  t.match(await newOnly.inner.tokens.handle({ userId: first.user_id, provider: 'twitch' }), { ok: true, accessToken: original.accessToken },
    'the new key alone now decrypts every token')
  await t.rejects(before.inner.tokens.handle({ userId: first.user_id, provider: 'twitch' }), /key "new" is not configured/, 'the old key alone no longer does')

  const again = await rotateTokenKeys({ DATABASE_URL: before.config.DATABASE_URL, TOKEN_ENCRYPTION_KEYS: newKeys })
  t.match(again.stdout + again.stderr, /re-encrypted 0 connection/, 'running it again changes nothing')
})
