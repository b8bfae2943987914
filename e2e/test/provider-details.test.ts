import pg from 'pg'
import t from 'tap'
import { buildDashboardIfNeeded } from '../../scripts/stack.mjs'
import { axeViolations, launchChromium, newContext, screenshot, type Page } from './browser.js'
import { eventually, startE2E } from './helper.js'

/** Approves on the simulator's consent page as `login`, by clicks. */
async function consent (page: Page, login: string) {
  await page.waitForURL(/\/oauth|\/authorize|sim/i)
  await page.getByRole('radio', { name: new RegExp(`^${login}\\b`) }).check()
  await page.getByRole('button', { name: 'Authorize' }).click()
}

t.test('the Twitch and X pages show the profile, the recent followers and the hours streamed', async (t) => {
  await buildDashboardIfNeeded({ stdio: ['ignore', 'ignore', 'inherit'] })
  const chromium = await launchChromium(t)
  const e2e = await startE2E(t)
  const { context } = await newContext(chromium, e2e.gateway)
  const page = await context.newPage()

  t.equal((await context.request.post('/auth/register', { data: { username: 'streamer', password: 'a long enough password', timezone: 'Europe/Paris' } })).status(), 201)
  await page.goto('/dashboard')
  await page.getByRole('link', { name: 'Connect Twitch' }).click()
  await consent(page, 'sim_mid')
  await page.waitForURL(`${e2e.gateway}/dashboard`)
  await page.getByRole('link', { name: 'Connect X' }).click()
  await consent(page, 'sim_big')
  await page.waitForURL(`${e2e.gateway}/dashboard`)
  await page.locator('[data-provider="twitch"] [data-metric="followers"]').waitFor({ timeout: 60_000 })
  await page.locator('[data-provider="twitter"] [data-metric="followers"]').waitFor({ timeout: 60_000 })

  // Two past streams, as EventSub records them (the flow itself is twitch-ingest's tests'): 2 h
  // yesterday and 1.5 h three days ago.
  const me = await (await context.request.get('/auth/me')).json() as { user: { id: string } }
  const db = new pg.Client({ connectionString: e2e.env.DATABASE_URL })
  await db.connect()
  const day = 86_400_000
  const noon = Date.now() - (Date.now() % day) + 12 * 3_600_000
  for (const [id, start, hours] of [['e2e-1', noon - day, 2], ['e2e-2', noon - 3 * day, 1.5]] as const) {
    await db.query('insert into twitch_ingest.stream_sessions (user_id, broadcaster_id, stream_id, started_at, ended_at) values ($1, $2, $3, $4, $5)',
      [me.user.id, '1', id, new Date(start), new Date(start + hours * 3_600_000)])
  }
  await db.end()
  const summary = await (await context.request.get('/twitch/streams/hours?days=28')).json() as { totalHours: number }
  t.equal(summary.totalHours, 3.5, 'the hours of both streams')

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
  t.match(await hours.textContent(), /h over the last 28 days/)
  t.equal(await hours.locator('.day-bar').count(), 28, 'a bar per day')

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
})
