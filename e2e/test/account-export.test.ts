import { strFromU8, unzipSync } from 'fflate'
import t from 'tap'
import { startStack } from '../../scripts/stack.mjs'
import { Browser, approveProvider, eventually, listen, stackDatabase, startE2E, urlOf } from './helper.js'

const PASSWORD = 'a good long password'
// The whole stack, two provider connections and a service stopped and started again: more than tap's default on a busy machine.
t.setTimeout(600_000)
const SETTINGS = { EXPORT_TTL_S: '20', EXPORT_RETRY_MS: '500', EXPORT_REQUEST_TIMEOUT_MS: '1000' }

/** Downloads through the gateway with the browser's session; the bytes and the status. */
async function download (browser: Browser, id: string): Promise<{ status: number, bytes: Uint8Array, type: string | null }> {
  const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  const res = await fetch(`${browser.base}/auth/me/exports/${id}/archive`, { headers: { cookie } })
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()), type: res.headers.get('content-type') }
}

t.test('export my data: delayed while a service is down, then every service\'s data in one zip, no secret, owner only, until it expires', async (t) => {
  const e2e = await startE2E(t, SETTINGS)
  const db = await stackDatabase(t, e2e)

  const creator = new Browser(e2e.gateway)
  t.equal((await creator.fetch('/auth/register', { method: 'POST', body: { username: 'exporter', password: PASSWORD } })).status, 201)
  const userId = (await creator.fetch('/auth/me')).json.user.id as string
  for (const [score, note] of [[3, 'a quiet day'], [5, 'shipped it']] as const) {
    t.equal((await creator.fetch('/mood', { method: 'POST', body: { score, note } })).status, 201)
  }
  t.equal((await creator.fetch('/contact', { method: 'POST', body: { name: 'Exporter', email: 'exporter@example.com', message: 'A message sent logged in' } })).status, 202)
  t.equal((await new Browser(e2e.gateway).fetch('/contact', { method: 'POST', body: { name: 'Anonymous', email: 'anon@example.com', message: 'Not mine' } })).status, 202)
  await approveProvider(creator, 'twitch', 'sim_mid', '/dashboard')
  await approveProvider(creator, 'twitter', 'sim_mid', '/dashboard')
  await eventually(() => creator.fetch('/twitch/overview'), (a) => a.status === 200 && a.json.capturedAt != null, 30_000, 'a Twitch snapshot')
  await eventually(() => creator.fetch('/twitter/overview'), (a) => a.status === 200 && a.json.capturedAt != null, 30_000, 'an X snapshot')
  const events = await listen(creator)
  t.teardown(() => events.close())

  // contact is down when the export is asked for.
  const contact = e2e.stack.children.find((c) => c.name === 'contact')!
  const contactPort = Number(new URL(urlOf(e2e, 'contact')).port)
  const exited = new Promise((resolve) => contact.child.once('exit', resolve))
  contact.child.kill('SIGTERM')
  await exited

  const asked = await creator.fetch('/auth/me/exports', { method: 'POST' })
  t.equal(asked.status, 202)
  const id = asked.json.export.id as string
  // Several rounds of asking contact (a timeout, then the retry delay, each) pass: still pending.
  await new Promise((resolve) => setTimeout(resolve, 3 * (Number(SETTINGS.EXPORT_REQUEST_TIMEOUT_MS) + Number(SETTINGS.EXPORT_RETRY_MS))))
  t.same((await creator.fetch('/auth/me/exports')).json.items.map((e: { status: string }) => e.status), ['pending'], 'a service down delays the export')
  t.equal((await download(creator, id)).status, 409)

  const restarted = await startStack({ env: e2e.stack.env, ports: { contact: contactPort }, stdio: ['ignore', 'ignore', 'inherit'], only: ['contact'] })
  t.teardown(() => restarted.stop())
  await eventually(() => creator.fetch('/auth/me/exports'), (a) => a.json.items?.[0]?.status === 'ready', 30_000, 'the export is ready')
  t.ok(await eventually(async () => /event: export\.ready/.test(events.text()), (ok) => ok, 10_000, 'the live event'), 'the open dashboard is told')

  const other = new Browser(e2e.gateway)
  t.equal((await other.fetch('/auth/register', { method: 'POST', body: { username: 'someone', password: PASSWORD } })).status, 201)
  t.equal((await download(other, id)).status, 404, 'another user gets 404')
  t.equal((await download(new Browser(e2e.gateway), id)).status, 401)

  const archive = await download(creator, id)
  t.equal(archive.status, 200)
  t.equal(archive.type, 'application/zip')
  const files = Object.fromEntries(Object.entries(unzipSync(archive.bytes)).map(([name, bytes]) => [name, JSON.parse(strFromU8(bytes)) as Record<string, any>])) // eslint-disable-line @typescript-eslint/no-explicit-any
  t.same(Object.keys(files).sort(), ['account.json', 'contact.json', 'mood.json', 'twitch.json', 'twitter.json'])
  t.match(files['account.json']!.user, { id: userId, username: 'exporter' })
  t.same(files['account.json']!.user.connections.map((c: { provider: string }) => c.provider).sort(), ['twitch', 'twitter'])
  t.same(files['mood.json']!.entries.map((e: { note: string }) => e.note).sort(), ['a quiet day', 'shipped it'])
  t.same(files['contact.json']!.messages.map((m: { message: string }) => m.message), ['A message sent logged in'])
  for (const [file, schema] of [['twitch.json', 'twitch_ingest'], ['twitter.json', 'twitter_ingest']] as const) {
    const { rows } = await db.query<{ id: string }>(`select id::text from ${schema}.snapshots where user_id = $1 order by id`, [userId])
    t.ok(rows.length > 0)
    t.same(files[file]!.snapshots.map((s: { id: string }) => s.id).sort(), rows.map((r) => r.id).sort(), `${file} holds every snapshot`)
  }

  // No secret: nothing stored as a secret (password hash, provider token ciphertexts) nor the password.
  const text = Object.values(files).map((f) => JSON.stringify(f)).join('\n')
  const { rows: [stored] } = await db.query<{ password_hash: string }>('select password_hash from auth.users where id = $1', [userId])
  const { rows: tokens } = await db.query<{ access_token: string, refresh_token: string | null, token_secret: string | null }>('select access_token, refresh_token, token_secret from auth.connections where user_id = $1', [userId])
  for (const secret of [PASSWORD, stored!.password_hash, ...tokens.flatMap((r) => [r.access_token, r.refresh_token, r.token_secret])].filter((s): s is string => s !== null)) {
    t.notOk(text.includes(secret), 'a stored secret is not in the archive')
  }
  t.notMatch(text, /token|password|secret|totp|hash/i, 'no field names a secret')

  // Expired: the link answers 404 and the export is no longer listed.
  await eventually(() => download(creator, id), (d) => d.status === 404, 40_000, 'the link expires')
  t.same((await creator.fetch('/auth/me/exports')).json.items, [])
})
