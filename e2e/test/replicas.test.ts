import { spawn } from 'node:child_process'
import path from 'node:path'
import pg from 'pg'
import t from 'tap'
import { ROOT } from '../../scripts/stack.mjs'
import { Browser, eventually, freePort, startE2E } from './helper.js'

t.test('two replicas of twitch-ingest: every refresh processed once, no duplicate snapshots', async (t) => {
  const e2e = await startE2E(t, { RATE_LIMIT_PER_ADDRESS: '100000' })
  // A second replica with the same settings, as a scaled Deployment would run it.
  const port = await freePort()
  const replica = spawn(process.execPath, ['--conditions=pulse-source', '--import', 'tsx', 'src/server.ts'], {
    cwd: path.join(ROOT, 'services/twitch-ingest'), env: { ...e2e.stack.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit']
  })
  t.teardown(() => { replica.kill('SIGTERM') })
  await eventually(() => fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status, () => 0), (s) => s === 200)

  const logins = ((await (await fetch(`${e2e.simulator}/_sim/users`)).json()) as { login: string }[]).map((u) => u.login).slice(0, 8)
  const creators: Browser[] = []
  for (const login of logins) {
    const browser = new Browser(e2e.gateway)
    const start = await browser.fetch('/auth/twitch/login')
    const consent = new URL(start.headers.get('location')!)
    consent.searchParams.set('sim_user', login)
    consent.searchParams.set('sim_decision', 'approve')
    await browser.follow(consent.toString())
    t.equal((await browser.fetch('/auth/me')).status, 200, `${login} signed in with Twitch`)
    creators.push(browser)
  }
  // each link asked for one refresh; now each user asks for one more
  for (const browser of creators) {
    await eventually(() => browser.fetch('/twitch/overview'), (a) => a.status === 200 && a.json.capturedAt != null, 30_000)
    t.equal((await browser.fetch('/twitch/refresh', { method: 'POST' })).status, 202)
  }

  const db = new pg.Client({ connectionString: e2e.env.DATABASE_URL })
  await db.connect()
  t.teardown(() => db.end())
  const perUser = async () => (await db.query('select user_id, count(*)::int as n from twitch_ingest.snapshots group by user_id')).rows as { user_id: string, n: number }[]
  const rows = await eventually(perUser, (r) => r.length === logins.length && r.every((x) => x.n >= 2), 60_000)
  t.equal(rows.length, logins.length, 'every user has snapshots')
  await new Promise((resolve) => setTimeout(resolve, 2000)) // let any duplicate delivery land
  const settled = await perUser()
  t.same(settled.map((r) => r.n), logins.map(() => 2), 'exactly two snapshots each: one per refresh request, none twice')
})
