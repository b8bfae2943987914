import t from 'tap'
import { buildDashboardIfNeeded } from '../../scripts/stack.mjs'
import { axeViolations, connectBothProviders, launchChromium, newContext, screenshot } from './browser.js'
import { eventually, startE2E } from './helper.js'

t.test('the Twitch and X pages show the profile, the recent followers and the hours streamed', async (t) => {
  await buildDashboardIfNeeded({ stdio: ['ignore', 'ignore', 'inherit'] })
  const chromium = await launchChromium(t)
  // EventSub on, so that a stream on the simulator becomes a stream session.
  const e2e = await startE2E(t, { TWITCH_EVENTSUB_ENABLED: 'true', TWITCH_EVENTSUB_SECRET: 'an-e2e-eventsub-secret-0123456789' })
  const { context, problems } = await newContext(chromium, e2e.gateway)
  const page = await context.newPage()

  t.equal((await context.request.post('/auth/register', { data: { username: 'streamer', password: 'a long enough password', timezone: 'Europe/Paris' } })).status(), 201)
  await page.goto('/dashboard')
  await connectBothProviders(page, e2e.gateway, { twitch: 'sim_mid', x: 'sim_big' })

  // A stream of two hours through EventSub: it started two hours ago on Twitch's clock (the
  // simulator's, set back for stream.online) and ends now (stream.offline carries no time).
  const verified = async () => ((await (await fetch(`${e2e.simulator}/_sim/eventsub/deliveries`)).json()) as Array<{ messageType: string, status: number }>)
    .filter((d) => d.messageType === 'webhook_callback_verification' && d.status === 200).length
  t.ok(await eventually(verified, (n) => n >= 7, 60_000) >= 7, 'the EventSub subscriptions are verified')
  const sim = (path: string, body: object) => fetch(`${e2e.simulator}/_sim/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  t.equal((await sim('clock', { set: Date.now() - 2 * 3_600_000 })).status, 200)
  t.equal((await sim('stream/online', { broadcaster: 'sim_mid', viewers: 40 })).status, 200, 'the stream starts')
  t.equal((await sim('clock', { set: Date.now() })).status, 200)
  type Sessions = { items: Array<{ endedAt: string | null }> }
  await eventually(async () => await (await context.request.get('/twitch/streams')).json() as Sessions, (s) => s.items.length === 1, 60_000)
  t.equal((await sim('stream/offline', { broadcaster: 'sim_mid' })).status, 200, 'the stream ends')
  await eventually(async () => await (await context.request.get('/twitch/streams')).json() as Sessions, (s) => s.items[0]?.endedAt !== null, 60_000)
  const summary = await (await context.request.get('/twitch/streams/hours?days=28')).json() as { totalHours: number }
  t.ok(summary.totalHours >= 1.95 && summary.totalHours <= 2.1, `about two hours: ${summary.totalHours}`)

  await page.getByRole('link', { name: 'Twitch', exact: true }).click()
  const profile = page.getByRole('region', { name: 'Twitch profile' })
  await profile.waitFor()
  t.match(await profile.textContent(), /SimMid.*@sim_mid.*Affiliate.*On Twitch for \d+ (year|month|day)/s, 'name, login, badge and account age')
  const followers = page.getByRole('region', { name: 'Recent followers' })
  await followers.locator('li').first().waitFor()
  t.equal(await followers.locator('li').count(), 10, 'the ten newest followers')
  await followers.getByRole('button', { name: 'Show more' }).click()
  t.equal(await eventually(() => followers.locator('li').count(), (n) => n === 20), 20, 'ten more on request')
  const hours = page.getByRole('region', { name: 'Hours streamed' })
  await hours.getByText(/h over the last 28 days/).waitFor()
  t.equal(await eventually(() => hours.locator('.day-bar').count(), (n) => n === 28), 28, 'a bar per day')

  await page.getByRole('link', { name: 'X', exact: true }).click()
  const x = page.getByRole('region', { name: 'X profile' })
  await x.waitFor()
  t.match(await x.textContent(), /@sim_big.*Verified.*On X for/s, 'the X profile with its check mark')

  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 })
    for (const path of ['/dashboard/twitch', '/dashboard/x']) {
      await page.goto(path)
      await page.locator('main h1').waitFor()
      await page.waitForFunction(() => document.querySelector('[aria-busy="true"], .skeleton') === null, undefined, { timeout: 30_000 })
      const violations = await axeViolations(page)
      t.same(violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `${path} at ${width} px`)
      t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${path} at ${width} px: no horizontal scrolling`)
      await screenshot(page, `details-${path.slice(1).replace(/\//g, '-')}-${width}`)
    }
  }
  t.same(problems, [], 'no CSP violation, no request to another origin (the avatars stay at the providers)')
})
