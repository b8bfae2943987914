import t from 'tap'
import { startStack } from '../../scripts/stack.mjs'
import { Browser, eventually, freePort, listen, startE2E } from './helper.js'

// The whole stack, a provider connection and a second notify replica: more than tap's default on a busy machine.
t.setTimeout(600_000)

/** Clicks "Sign in with Twitch" and approves on the simulator's consent page as `login`. */
async function connectTwitch (browser: Browser, login: string) {
  const start = await browser.fetch('/auth/twitch/login?returnTo=/dashboard')
  if (start.status !== 302) throw new Error(`twitch login: ${start.status} ${start.text}`)
  const consent = new URL(start.headers.get('location')!)
  consent.searchParams.set('sim_user', login)
  consent.searchParams.set('sim_decision', 'approve')
  await browser.follow(consent.toString())
}

t.test('a followed channel goes live on the simulator: one alert on the dashboard, over several refreshes and two notify replicas', async (t) => {
  const e2e = await startE2E(t, { TWITCH_MANUAL_REFRESH_MIN_INTERVAL_S: '1' })
  const second = await startStack({ env: e2e.stack.env, ports: { notify: await freePort() }, stdio: ['ignore', 'ignore', 'inherit'], only: ['notify'] })
  t.teardown(() => second.stop())
  const sim = async (path: string, body: unknown) => {
    const res = await fetch(`${e2e.simulator}/_sim${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  }
  // sim_mid follows sim_big (the simulator's fixed personas): offline before the first refresh.
  await sim('/stream/offline', { broadcaster: 'sim_big' })
  const viewer = new Browser(e2e.gateway)
  await connectTwitch(viewer, 'sim_mid')
  const events = await listen(viewer)
  t.teardown(() => events.close())
  t.equal(events.status, 200)
  await eventually(() => viewer.fetch('/twitch/overview'), (a) => a.status === 200 && a.json.capturedAt != null, 60_000, 'the first refresh')
  const settings = await viewer.fetch('/notify/settings')
  t.equal(settings.status, 200, 'the settings, through the gateway')
  t.match(settings.json.settings, [{ kind: 'channel.live', live: true }])

  const refreshed = async () => {
    const before = (events.text().match(/event: metrics\.refreshed/g) ?? []).length
    await eventually(() => viewer.fetch('/twitch/refresh', { method: 'POST' }), (a) => a.status === 202, 20_000, 'a manual refresh accepted')
    await eventually(async () => (events.text().match(/event: metrics\.refreshed/g) ?? []).length, (n) => n > before, 30_000, 'the refresh done')
  }
  await sim('/stream/online', { broadcaster: 'sim_big', viewers: 300 })
  await refreshed()
  await eventually(async () => events.text(), (text) => /event: notification\ndata: \{[^\n]*"kind":"channel\.live"/.test(text), 20_000, 'the live alert')
  await refreshed()
  await refreshed()
  // A marker after the last refresh: a second alert would have come before it.
  await sim('/stream/offline', { broadcaster: 'sim_big' })
  await refreshed()
  const alerts = events.text().match(/event: notification\ndata: [^\n]*"kind":"channel\.live"[^\n]*/g) ?? []
  t.equal(alerts.length, 1, 'one alert for the stream, over four refreshes and two replicas')
  t.match(alerts[0], /is live/)
})
