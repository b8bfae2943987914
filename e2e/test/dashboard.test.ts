import { generate } from 'otplib'
import t from 'tap'
import { buildDashboardIfNeeded } from '../../scripts/stack.mjs'
import { axeViolations, connectBothProviders, consent, launchChromium, newContext, screenshot, type Page } from './browser.js'
import { eventually, startE2E, urlOf } from './helper.js'

const PASSWORD = 'a long enough password'

async function followers (page: Page, provider: string): Promise<string> {
  return (await page.locator(`[data-provider="${provider}"] [data-metric="followers"]`).textContent()) ?? ''
}

t.test('the dashboard in a real browser', async (t) => {
  // A build of the current sources (rebuilt when any is newer than it), never a stale one.
  await buildDashboardIfNeeded({ stdio: ['ignore', 'ignore', 'inherit'] })
  const chromium = await launchChromium(t)
  const e2e = await startE2E(t)
  const { context, problems } = await newContext(chromium, e2e.gateway)
  const page = await context.newPage()
  const simClock = (body: object) => fetch(`${e2e.simulator}/_sim/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

  await t.test('register by typing and clicking, land on the overview', async (t) => {
    await page.goto('/')
    await page.waitForURL('**/sign-in')
    await page.getByRole('button', { name: 'Create an account' }).click()
    await page.getByLabel('Username').fill('creator')
    await page.getByLabel('Display name (optional)').fill('Cree Ator')
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.waitForURL('**/dashboard')
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
    t.equal(await page.getByRole('heading', { name: 'Twitch' }).count(), 1, 'a card per provider')
  })

  await t.test('log the mood on several days and see the streak and the calendar', async (t) => {
    await page.getByRole('link', { name: 'Mood', exact: true }).first().click()
    await page.waitForURL('**/dashboard/mood')
    // Past days through the API the page uses (the same session), today by two clicks.
    for (const daysAgo of [3, 2, 1]) {
      const res = await context.request.post('/mood', { data: { score: 2 + daysAgo, loggedAt: new Date(Date.now() - daysAgo * 86_400_000).toISOString() } })
      t.equal(res.status(), 201)
    }
    await page.reload()
    await page.getByRole('button', { name: /Great/ }).click()
    await page.getByRole('button', { name: 'Log mood' }).click()
    await page.locator('[data-streak="current"]', { hasText: '4' }).waitFor()
    t.equal(await page.locator('[data-streak="longest"]').textContent(), '4')
    // The calendar is its own request, answered after the streak's or before.
    t.equal(await eventually(() => page.locator('.heatmap td.cell:not(.mood-0)').count(), (n) => n === 4), 4, 'four days coloured in the calendar')
    t.equal(await eventually(() => page.locator('.entries .entry').count(), (n) => n === 4), 4, 'four entries listed')

    // Edit the oldest entry, then delete it (with its confirmation).
    const oldest = page.locator('.entries .entry').last()
    await oldest.getByRole('button', { name: /^Edit/ }).click()
    await page.locator('.entries .entry form select').selectOption('1')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.locator('.entries .entry').last().getByText('1/5 Awful').waitFor()
    await page.locator('.entries .entry').last().getByRole('button', { name: /^Delete/ }).click()
    await page.getByRole('button', { name: 'Yes, delete' }).click()
    await eventually(() => page.locator('.entries .entry').count(), (n) => n === 3)
    await page.locator('[data-streak="current"]', { hasText: '3' }).waitFor()
    t.pass('edited and deleted; the streak follows')
  })

  await t.test('connect Twitch and X on the simulator\'s consent pages; charts have points', async (t) => {
    await page.getByRole('link', { name: 'Overview' }).click()
    await connectBothProviders(page, e2e.gateway, { twitch: 'sim_mid', x: 'sim_mid' })
    // The overview charts every metric of each connected account, not only followers.
    const overviewCharts = {
      twitch: ['followers', 'subscribers', 'subscriberPoints', 'videoViews'],
      twitter: ['followers', 'posts', 'engagementRate']
    }
    for (const [provider, metrics] of Object.entries(overviewCharts)) {
      for (const metric of metrics) {
        const chart = page.locator(`[data-provider="${provider}"] [data-series="${metric}"]`)
        await chart.locator('.chart-canvas canvas').waitFor({ timeout: 30_000 })
        t.ok(Number(await chart.locator('.chart-canvas').getAttribute('data-points')) >= 1, `the overview's ${provider} ${metric} chart has points`)
        t.match(await chart.locator('figcaption').textContent(), /\w/, `the overview's ${provider} ${metric} chart is labelled`)
      }
    }
    await page.getByRole('link', { name: 'Twitch', exact: true }).click()
    await page.locator('.chart-canvas canvas').first().waitFor()
    t.ok(await eventually(() => page.locator('.chart-canvas canvas').count(), (n) => n >= 4) >= 4, 'the Twitch page charts followers, subscriptions, points and views')
    await page.getByRole('link', { name: 'X', exact: true }).click()
    await page.getByRole('table', { name: /Posts/ }).waitFor()
    t.ok(await eventually(() => page.locator('.chart-canvas canvas').count(), (n) => n >= 3) >= 3, 'the X page charts followers, posts and engagement')
  })

  await t.test('Refresh now: the numbers change live, then the manual limit shows', async (t) => {
    await page.getByRole('link', { name: 'Overview' }).click()
    const before = await followers(page, 'twitch')
    t.ok(before !== '')
    // Time passes at the provider; the refresh brings the new numbers without a reload.
    t.equal((await simClock({ advance: 21 * 86_400_000 })).status, 200)
    const card = page.locator('[data-provider="twitch"]')
    await card.getByRole('button', { name: 'Refresh now' }).click()
    await eventually(() => followers(page, 'twitch'), (now) => now !== before, 60_000)
    t.not(await followers(page, 'twitch'), before, `followers went from ${before} to ${await followers(page, 'twitch')} live`)
    await page.getByText(/Twitch numbers updated/).waitFor()
    await card.getByRole('button', { name: 'Refresh now' }).click()
    await card.getByText(/Manual refreshes are limited: next one in \d+ s/).waitFor()
    t.ok(await card.getByRole('button', { name: 'Refresh now' }).isDisabled(), 'disabled while the limit applies')
  })

  await t.test('send a contact message, triage it as an admin', async (t) => {
    await page.getByRole('link', { name: 'Contact' }).click()
    await page.getByRole('button', { name: 'Send message' }).click()
    await page.getByText('Your name is required.').waitFor()
    await page.getByLabel('Your name').fill('Cree Ator')
    await page.getByLabel('Your email').fill('not an address')
    await page.getByLabel('Message', { exact: true }).fill('The dashboard is lovely.')
    await page.getByRole('button', { name: 'Send message' }).click()
    await page.getByText(/Your email: this is not an email address/).waitFor()
    t.pass('the API\'s 400 shows next to the field')
    await page.getByLabel('Your email').fill('cree@example.com')
    await page.getByLabel('Subject (optional)').fill('Hello team')
    await page.getByRole('button', { name: 'Send message' }).click()
    await page.getByText(/Your message is on its way/).waitFor()

    const made = await e2e.runCommand('services/auth', 'src/cli/make-admin.ts', ['creator'])
    t.equal(made.code, 0, made.output)
    // The role is carried from the next login.
    await page.getByRole('link', { name: 'Settings' }).click()
    await page.getByRole('button', { name: 'Log out' }).click()
    await page.waitForURL('**/sign-in')
    await page.getByLabel('Username').fill('creator')
    await page.getByLabel('Password').fill('a wrong password')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByText('Wrong username or password.').waitFor()
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL('**/dashboard')
    await page.locator('[data-provider="twitch"] [data-metric="followers"]').waitFor()
    t.pass('after logging in, the overview shows the connected accounts at once')
    await page.getByRole('link', { name: 'Inbox' }).click()
    const message = page.locator('.message', { hasText: 'Hello team' })
    await message.waitFor()
    await message.getByRole('button', { name: 'Mark read' }).click()
    await message.waitFor({ state: 'detached' })
    await page.getByRole('button', { name: 'Read', exact: true }).click()
    await page.locator('.message', { hasText: 'Hello team' }).getByText('read', { exact: true }).waitFor()
    t.pass('triaged from new to read')
  })

  await t.test('every page: no serious accessibility violations; screenshots at 390 and 1280 px', async (t) => {
    const pages = ['/dashboard', '/dashboard/twitch', '/dashboard/x', '/dashboard/mood', '/dashboard/contact', '/dashboard/inbox', '/dashboard/settings']
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: 900 })
      for (const path of pages) {
        await page.goto(path)
        await page.locator('main h1').waitFor()
        await page.waitForFunction(() => document.querySelector('[aria-busy="true"], .skeleton') === null, undefined, { timeout: 30_000 })
        const violations = await axeViolations(page)
        t.same(violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `${path} at ${width} px`)
        t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${path} at ${width} px: no horizontal scrolling`)
        await screenshot(page, `${path.slice(1).replace(/\//g, '-')}-${width}`)
      }
    }
    const { context: visitor } = await newContext(chromium, e2e.gateway, 390)
    const signIn = await visitor.newPage()
    await signIn.goto('/sign-in')
    await signIn.getByRole('button', { name: 'Log in' }).waitFor()
    t.same(await axeViolations(signIn), [], 'the sign-in page')
    await screenshot(signIn, 'sign-in-390')
    await signIn.setViewportSize({ width: 1280, height: 900 })
    await screenshot(signIn, 'sign-in-1280')
    await visitor.close()
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  await t.test('settings: sign out the other sessions, turn on two-factor, sign in with a code', async (t) => {
    const { context: other } = await newContext(chromium, e2e.gateway, 390)
    t.equal((await other.request.post('/auth/login', { data: { username: 'creator', password: PASSWORD } })).status(), 200, 'a second browser signs in')
    await page.goto('/dashboard/settings')
    const sessions = page.locator('.sessions li')
    t.equal(await eventually(() => sessions.count(), (n) => n === 2), 2, 'both sessions listed')
    await page.locator('.sessions li', { hasText: 'this device' }).waitFor()
    await page.getByRole('button', { name: 'Sign out all other sessions' }).click()
    await page.getByText('Signed out 1 other session.').waitFor()
    t.equal((await other.request.get('/auth/me')).status(), 401, 'the other browser is signed out at once')
    t.equal(await eventually(() => sessions.count(), (n) => n === 1), 1, 'the list reloads with this session only')

    await page.getByRole('button', { name: 'Set up two-factor' }).click()
    await page.getByRole('img', { name: /QR code/ }).waitFor()
    const secret = (await page.locator('code.secret').textContent()) ?? ''
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: 900 })
      await screenshot(page, `settings-two-factor-setup-${width}`)
    }
    await page.getByLabel('The 6-digit code the app shows').fill(await generate({ secret }))
    await page.getByRole('button', { name: 'Turn on' }).click()
    const codes = page.locator('.recovery-codes li')
    t.equal(await eventually(() => codes.count(), (n) => n === 10), 10, 'ten recovery codes, shown once')
    t.same(await axeViolations(page), [], 'the settings page with its recovery codes')
    t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scrolling')
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: 900 })
      await screenshot(page, `settings-recovery-codes-${width}`)
    }
    await page.getByRole('button', { name: 'I have saved them' }).click()
    await page.getByText(/On\. Signing in asks for a code/).waitFor()

    const signIn = await other.newPage()
    await signIn.goto('/sign-in')
    await signIn.getByLabel('Username').fill('creator')
    await signIn.getByLabel('Password').fill(PASSWORD)
    await signIn.getByRole('button', { name: 'Log in' }).click()
    await signIn.getByRole('heading', { name: 'Enter your code' }).waitFor()
    t.same(await axeViolations(signIn), [], 'the code step')
    await screenshot(signIn, 'sign-in-code-390')
    // The enrolment used this 30-second step's code: the next step's is new, and still accepted.
    await signIn.getByLabel('Code from your authenticator app').fill(await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }))
    await signIn.getByRole('button', { name: 'Verify' }).click()
    await signIn.waitForURL('**/dashboard')
    t.pass('signed in with the password and a code')
    await other.close()

    // A sign-in with Twitch or X of such an account comes back with the code step's challenge in the
    // fragment (auth's tests follow that flow): the page opens the code step and clears the address.
    const { context: returning } = await newContext(chromium, e2e.gateway, 390)
    const back = await returning.newPage()
    await back.goto('/dashboard/twitch#two-factor=an-expired-challenge')
    await back.getByRole('heading', { name: 'Enter your code' }).waitFor()
    t.equal(new URL(back.url()).hash, '', 'the challenge is taken out of the address bar')
    await back.getByLabel('Code from your authenticator app').fill('123456')
    await back.getByRole('button', { name: 'Verify' }).click()
    await back.getByRole('button', { name: 'Log in' }).waitFor()
    t.pass('an expired challenge leads back to the sign-in form')
    await returning.close()

    await page.getByLabel('Code, recovery code or password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Turn off two-factor' }).click()
    await page.getByRole('button', { name: 'Set up two-factor' }).waitFor()
    t.pass('turned off with the password')
  })

  await t.test('disconnect Twitch with a confirmation, then log out', async (t) => {
    await page.goto('/dashboard/settings')
    await page.getByRole('button', { name: 'Disconnect Twitch' }).click()
    await page.getByRole('button', { name: 'Yes, disconnect' }).click()
    await page.getByText(/Twitch is disconnected/).waitFor()
    await page.getByRole('link', { name: 'Overview' }).click()
    await page.getByRole('link', { name: 'Connect Twitch' }).waitFor()
    t.pass('the overview offers to connect Twitch again')
    await page.getByRole('link', { name: 'Settings' }).click()
    await page.getByRole('button', { name: 'Log out' }).click()
    await page.waitForURL('**/sign-in')
    await page.goto('/dashboard/mood')
    await page.waitForURL('**/sign-in')
    t.pass('logged out: the pages send you to sign in')
  })

  await t.test('sign in with Twitch from a fresh browser lands on the overview, logged in', async (t) => {
    const { context: fresh } = await newContext(chromium, e2e.gateway)
    const p = await fresh.newPage()
    await p.goto('/')
    await p.getByRole('link', { name: 'Sign in with Twitch' }).click()
    await consent(p, 'sim_big')
    await p.waitForURL(`${e2e.gateway}/dashboard`)
    await p.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
    t.ok(await p.getByRole('navigation', { name: 'Main' }).isVisible(), 'logged in: the navigation is there')
    await p.locator('[data-provider="twitch"] [data-metric="followers"]').waitFor({ timeout: 60_000 })

    // Denying consent comes back with a message, not signed in.
    await fresh.clearCookies()
    await p.goto('/sign-in')
    await p.getByRole('link', { name: 'Sign in with Twitch' }).click()
    await p.waitForURL(/\/oauth|\/authorize|sim/i)
    await p.getByRole('button', { name: 'Cancel' }).click()
    await p.getByText(/You declined on Twitch/).waitFor()
    t.pass('a denied consent is explained')
    await fresh.close()
  })

  await t.test('a stopped service shows its banner while the rest of the page works', async (t) => {
    await page.goto('/sign-in')
    await page.getByLabel('Username').fill('creator')
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL('**/dashboard')
    await page.getByText('day streak').waitFor()
    const mood = e2e.stack.children.find((c) => c.name === 'mood')!
    await new Promise((resolve) => { mood.child.once('exit', resolve); mood.child.kill('SIGTERM') })
    t.equal((await fetch(`${urlOf(e2e, 'gateway')}/health`)).status, 200)
    await page.reload()
    await page.getByText('Mood is unavailable right now.').waitFor()
    await page.getByText(/Retrying every/).first().waitFor()
    t.ok(await page.getByRole('heading', { name: 'X' }).isVisible(), 'the other cards are there')
    await screenshot(page, 'service-down-1280')
    await page.getByRole('link', { name: 'Twitch', exact: true }).click()
    await page.getByRole('table', { name: 'Top games' }).waitFor()
    t.pass('the Twitch page works meanwhile')
    await page.getByRole('link', { name: 'Mood', exact: true }).click()
    await page.getByText('Mood is unavailable right now.').first().waitFor()
    t.ok(await page.getByRole('button', { name: 'Log mood' }).isVisible(), 'the mood form is still there, its part of the page says why it cannot load')
  })

  await t.test('the API reference works under its own policy (inline styles allowed there only)', async (t) => {
    await page.goto('/docs')
    await page.locator('.swagger-ui .info').waitFor()
    t.pass('Swagger UI rendered')
  })

  t.same(problems, [], 'no CSP violation, no request to another origin')
})
