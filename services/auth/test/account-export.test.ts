import { UserDataRpcV1, type UserDataReply, type UserDataService } from '@pulse/contracts'
import { answerRequests, EventBus, type Responder } from '@pulse/service-kit'
import { testInfra, type Teardown } from '@pulse/testing'
import { strFromU8, unzipSync } from 'fflate'
import t from 'tap'
import { Browser, consent, me } from './browser.js'
import { TEST_PUBLIC_URL, build, eventually, settle, startSim, storedTokens, type TestAuth } from './helper.js'

const sim = await startSim(t)
const PUBLIC = TEST_PUBLIC_URL
const PASSWORD = 'a long enough password'
const SETTINGS = { EXPORT_TTL_S: '2', EXPORT_RETRY_MS: '200', EXPORT_REQUEST_TIMEOUT_MS: '300' }

/** Every service's answer to "the user's data", on the real bus, the way the services answer: records in pages of two. */
async function answerAs (t: Teardown, auth: TestAuth, service: UserDataService, records: (userId: string) => Array<Record<string, unknown>>): Promise<Responder> {
  const bus = await EventBus.connect({ url: (await testInfra()).natsUrl, name: `export-test-${service}`, prefix: auth.config.NATS_PREFIX })
  const contract = { ...UserDataRpcV1, subjects: { [service]: UserDataRpcV1.subjects[service] } as Record<UserDataService, string> }
  const responder = await answerRequests(bus, contract, {
    handle: async ({ userId, cursor }): Promise<UserDataReply> => {
      const all = records(userId)
      const start = cursor === undefined ? 0 : Number(cursor)
      return { ok: true, records: all.slice(start, start + 2), nextCursor: start + 2 < all.length ? String(start + 2) : null }
    },
    refuse: (): UserDataReply => ({ ok: false, error: 'invalid', message: 'refused' })
  })
  t.teardown(async () => { await responder.close(); await bus.close() })
  return responder
}

async function registeredWithProviders (auth: TestAuth, username: string, ip?: string) {
  const browser = new Browser(auth, ip)
  const res = await browser.request(`${PUBLIC}/auth/register`, { method: 'POST', json: { username, password: PASSWORD } })
  if (res.status !== 201) throw new Error(`register answered ${res.status}`)
  await browser.navigate(`${PUBLIC}/auth/twitch/login`, consent('sim_mid'))
  await browser.navigate(`${PUBLIC}/auth/twitter/login`, consent('sim_mid'))
  return { browser, userId: (await me(browser)).user.id }
}

const exportsOf = async (browser: Browser) => JSON.parse((await browser.request(`${PUBLIC}/auth/me/exports`)).body) as { items: Array<{ id: string, status: string, expiresAt: string | null }> }

t.test('an export waits for a service that does not answer, then holds every part and no secret; only its owner downloads it, until it expires', async (t) => {
  const auth = await build(t, SETTINGS, { sim })
  const { browser, userId } = await registeredWithProviders(auth, 'exporter')
  const entries = [1, 2, 3].map((n) => ({ id: `e${n}`, score: n, note: `note ${n}` }))
  await answerAs(t, auth, 'mood', (id) => id === userId ? entries : [])
  await answerAs(t, auth, 'twitch-ingest', (id) => id === userId ? [{ id: 's1', followers: 10 }, { id: 's2', followers: 11 }, { id: 's3', followers: 12 }] : [])
  await answerAs(t, auth, 'twitter-ingest', (id) => id === userId ? [{ id: 'x1', followers: 5 }] : [])
  // contact is down for now.

  const asked = await browser.request(`${PUBLIC}/auth/me/exports`, { method: 'POST' })
  t.equal(asked.status, 202)
  const { export: pending } = JSON.parse(asked.body) as { export: { id: string, status: string, expiresAt: string | null } }
  t.match(pending, { status: 'pending', expiresAt: null })
  const again = await browser.request(`${PUBLIC}/auth/me/exports`, { method: 'POST' })
  t.equal(JSON.parse(again.body).export.id, pending.id, 'asking again while pending answers the same export')
  const early = await browser.request(`${PUBLIC}/auth/me/exports/${pending.id}/archive`)
  t.equal(early.status, 409)
  t.equal(JSON.parse(early.body).code, 'AUTH_EXPORT_NOT_READY')
  // Several rounds of asking contact (timeout + retry each) pass: still pending, never a partial archive.
  await settle(4 * (Number(SETTINGS.EXPORT_REQUEST_TIMEOUT_MS) + Number(SETTINGS.EXPORT_RETRY_MS)))
  t.same((await exportsOf(browser)).items.map((e) => e.status), ['pending'], 'a service down delays the export')

  await answerAs(t, auth, 'contact', (id) => id === userId ? [{ id: 'c1', message: 'hello' }] : [])
  t.ok(await eventually(async () => (await exportsOf(browser)).items[0]?.status === 'ready'), 'ready once contact answers')
  const [ready] = (await exportsOf(browser)).items
  t.ok(Date.parse(ready!.expiresAt!) > Date.now(), 'with its expiry')
  t.ok(await eventually(async () => (await auth.events('auth.export.ready.v1')).length === 1), 'the user is told')
  t.match((await auth.events('auth.export.ready.v1'))[0], { userId, exportId: pending.id, expiresAt: ready!.expiresAt })

  const other = new Browser(auth, '198.51.100.40')
  await other.request(`${PUBLIC}/auth/register`, { method: 'POST', json: { username: 'someone_else', password: PASSWORD } })
  const stolen = await other.request(`${PUBLIC}/auth/me/exports/${pending.id}/archive`)
  t.equal(stolen.status, 404, 'another user gets 404')
  t.equal(JSON.parse(stolen.body).code, 'AUTH_EXPORT_NOT_FOUND')
  t.equal((await new Browser(auth).request(`${PUBLIC}/auth/me/exports/${pending.id}/archive`)).status, 401)

  const download = await browser.request(`${PUBLIC}/auth/me/exports/${pending.id}/archive`)
  t.equal(download.status, 200)
  t.equal(download.headers!['content-type'], 'application/zip')
  t.match(download.headers!['content-disposition'], /^attachment; filename="pulse-export-\d{4}-\d{2}-\d{2}\.zip"$/)
  const files = Object.fromEntries(Object.entries(unzipSync(download.bytes!)).map(([name, bytes]) => [name, strFromU8(bytes)]))
  t.same(Object.keys(files).sort(), ['account.json', 'contact.json', 'mood.json', 'twitch.json', 'twitter.json'])
  const account = JSON.parse(files['account.json']!) as { user: { id: string, username: string, connections: Array<{ provider: string }> } }
  t.match(account.user, { id: userId, username: 'exporter' })
  t.same(account.user.connections.map((c) => c.provider).sort(), ['twitch', 'twitter'], 'connections, without secrets')
  t.same(JSON.parse(files['mood.json']!), { entries }, 'every page of every part')
  t.same(JSON.parse(files['contact.json']!), { messages: [{ id: 'c1', message: 'hello' }] })
  t.equal((JSON.parse(files['twitch.json']!) as { snapshots: unknown[] }).snapshots.length, 3)
  t.equal((JSON.parse(files['twitter.json']!) as { snapshots: unknown[] }).snapshots.length, 1)

  // No secret anywhere in the archive: no provider token (plaintext or stored), no password or its hash.
  const text = Object.values(files).join('\n')
  const twitch = await storedTokens(auth, userId, 'twitch')
  const x = await storedTokens(auth, userId, 'twitter')
  const user = await auth.db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirstOrThrow()
  const secrets = [twitch.tokens.accessToken, twitch.tokens.refreshToken, x.tokens.accessToken, x.tokens.tokenSecret,
    twitch.row.access_token, twitch.row.refresh_token, x.row.access_token, x.row.token_secret, user.password_hash, PASSWORD]
  for (const secret of secrets) {
    t.ok(typeof secret === 'string' && secret.length > 8, 'a secret to look for')
    t.notOk(text.includes(secret!), 'the secret is not in the archive')
  }
  t.notMatch(text, /token|password|hash|secret|totp/i, 'no field names a secret')

  // Expired: gone from the list, the link answers 404, and the archive is deleted.
  t.ok(await eventually(async () => (await browser.request(`${PUBLIC}/auth/me/exports/${pending.id}/archive`)).status === 404), 'the link expires')
  t.same((await exportsOf(browser)).items, [])
})

