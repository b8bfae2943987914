import { spawn } from 'node:child_process'
import path from 'node:path'
import t from 'tap'
import { ROOT, startStack } from '../../scripts/stack.mjs'
import { Browser, approveProvider, eventually, freePort, stackDatabase, startE2E } from './helper.js'

/** A twitch-ingest process of the test's own, counting the refreshes it handled from its log. */
function startReplica (env: Record<string, string>, port: number) {
  const child = spawn(process.execPath, ['--conditions=pulse-source', '--import', 'tsx', 'src/server.ts'], {
    cwd: path.join(ROOT, 'services/twitch-ingest'), env: { ...env, PORT: String(port), LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit']
  })
  const replica = { child, url: `http://127.0.0.1:${port}`, handled: 0 }
  let pending = ''
  child.stdout.on('data', (chunk) => {
    pending += String(chunk)
    const lines = pending.split('\n')
    pending = lines.pop()!
    for (const line of lines) {
      try {
        if ((JSON.parse(line) as { msg?: string }).msg === 'refresh handled') replica.handled++
      } catch { /* not a log line */ }
    }
  })
  return replica
}

t.test('two replicas of twitch-ingest: both healthy, each handles refreshes, every refresh processed once', async (t) => {
  const ackWaitS = 5
  // The stack without twitch-ingest and the gateway: both replicas are the test's, so their logs
  // show which one handled what; the gateway starts once they answer.
  const e2e = await startE2E(t, { RATE_LIMIT_PER_ADDRESS: '100000', TWITCH_REFRESH_ACK_WAIT_S: String(ackWaitS) }, ['provider-sim', 'auth'])
  const env = e2e.stack.env as Record<string, string>
  const replicas = [startReplica(env, Number(new URL(env.TWITCH_INGEST_URL!).port)), startReplica(env, await freePort())]
  t.teardown(() => { for (const r of replicas) r.child.kill('SIGTERM') })
  for (const [i, r] of replicas.entries()) {
    const health = await eventually(() => fetch(`${r.url}/health`).then((res) => res.status, () => 0), (s) => s === 200, 60_000, `replica ${i + 1} healthy`)
    t.equal(health, 200, `replica ${i + 1} is healthy`)
  }
  const gateway = await startStack({ env, ports: { gateway: Number(new URL(e2e.gateway).port) }, stdio: ['ignore', 'ignore', 'inherit'], only: ['gateway'] })
  t.teardown(() => gateway.stop())

  const logins = ((await (await fetch(`${e2e.simulator}/_sim/users`)).json()) as { login: string }[]).map((u) => u.login).slice(0, 8)
  const creators: Browser[] = []
  for (const login of logins) {
    const browser = new Browser(e2e.gateway)
    await approveProvider(browser, 'twitch', login)
    t.equal((await browser.fetch('/auth/me')).status, 200, `${login} signed in with Twitch`)
    creators.push(browser)
  }
  // each link asked for one refresh; now each user asks for one more
  for (const browser of creators) {
    const overview = await eventually(() => browser.fetch('/twitch/overview'), (a) => a.status === 200 && a.json.capturedAt != null, 30_000, 'the first refresh')
    t.equal(overview.status, 200)
    t.equal((await browser.fetch('/twitch/refresh', { method: 'POST' })).status, 202)
  }

  const db = await stackDatabase(t, e2e)
  const perUser = async () => (await db.query('select user_id, count(*)::int as n from twitch_ingest.snapshots group by user_id')).rows as { user_id: string, n: number }[]
  const rows = await eventually(perUser, (r) => r.length === logins.length && r.every((x) => x.n >= 2), 60_000, 'two snapshots per user')
  t.equal(rows.length, logins.length, 'every user has snapshots')
  // A duplicate would be a redelivery, which JetStream makes after the ack wait: wait that long, and half again.
  await new Promise((resolve) => setTimeout(resolve, ackWaitS * 1500))
  const settled = await perUser()
  t.same(settled.map((r) => r.n), logins.map(() => 2), 'exactly two snapshots each: one per refresh request, none twice')
  t.equal(replicas[0]!.handled + replicas[1]!.handled, logins.length * 2, 'the replicas handled each refresh once between them')
  for (const [i, r] of replicas.entries()) t.ok(r.handled >= 1, `replica ${i + 1} handled ${r.handled} refreshes`)
})
