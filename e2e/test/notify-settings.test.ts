import { createServer, type IncomingHttpHeaders } from 'node:http'
import path from 'node:path'
import { Webhook } from 'standardwebhooks'
import t, { type Test } from 'tap'
import { buildDashboardIfNeeded, startStack } from '../../scripts/stack.mjs'
import { SCREENSHOTS, axeViolations, launchChromium, newContext, screenshot, type Page } from './browser.js'
import { eventually, startE2E, urlOf } from './helper.js'

// The whole stack, a browser, two widths and a restart of notify: more than tap's default on a busy machine.
t.setTimeout(600_000)

/** A webhook receiver on this machine: what it got, answered 200. */
async function startReceiver (t: Test) {
  const received: Array<{ headers: IncomingHttpHeaders, body: string }> = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.statusCode = 200
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`, received }
}

/** Waits until no part of the page is loading any more. */
async function settled (page: Page) {
  await page.waitForFunction(() => document.querySelector('[aria-busy="true"], .skeleton') === null, undefined, { timeout: 30_000 })
}

async function checkLayout (t: Test, page: Page, name: string) {
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 })
    await settled(page)
    const violations = await axeViolations(page)
    t.same(violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `${name} at ${width} px: no serious axe violation`)
    t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${name} at ${width} px: no horizontal scrolling`)
    await screenshot(page, `${name}-${width}`)
    // The part alone as well, to look at it at its real size.
    await page.getByRole('region', { name: 'Notifications' }).screenshot({ path: path.join(SCREENSHOTS, `${name}-${width}-part.png`) })
  }
}

t.test('notifications on the settings page, by clicks: channels, the mood reminder, a webhook with its secret, test event and log', async (t) => {
  await buildDashboardIfNeeded({ stdio: ['ignore', 'ignore', 'inherit'] })
  const chromium = await launchChromium(t)
  // A receiver on 127.0.0.1 over http: allowed for local use and tests only (docs/notify.md).
  const e2e = await startE2E(t, { NOTIFY_WEBHOOKS_ALLOW_PRIVATE: 'true' })
  const receiver = await startReceiver(t)
  const { context, problems } = await newContext(chromium, e2e.gateway)
  const page = await context.newPage()
  t.equal((await context.request.post('/auth/register', { data: { username: 'notified', password: 'a long enough password', timezone: 'Europe/Paris' } })).status(), 201)

  await page.goto('/dashboard/settings')
  const section = page.getByRole('region', { name: 'Notifications' })
  await section.getByRole('checkbox', { name: 'Milestones by dashboard' }).waitFor()
  await settled(page)

  // Kinds × channels: mail cannot work without a confirmed address.
  t.ok(await section.getByRole('checkbox', { name: 'Milestones by e-mail' }).isDisabled(), 'e-mail is off limits without a confirmed address')
  t.match(await section.textContent(), /E-mail needs a confirmed address/, 'and the page says why')
  t.equal(await section.getByRole('checkbox', { name: /Contact messages/ }).count(), 0, 'admin-only kinds are not shown to a creator')
  const live = section.getByRole('checkbox', { name: 'Followed channel live by dashboard' })
  t.ok(await live.isChecked(), 'on by default')
  await live.click()
  await section.getByText('Saved: Followed channel live by dashboard off.').waitFor()
  type Settings = { settings: Array<{ kind: string, live: boolean, webhook: boolean }> }
  const saved = await (await context.request.get('/notify/settings')).json() as Settings
  t.equal(saved.settings.find((s) => s.kind === 'channel.live')?.live, false, 'saved at once (the API says so)')
  await page.reload()
  await live.waitFor()
  t.notOk(await live.isChecked(), 'still off after a reload')

  // The mood reminder, in the account's time zone.
  await section.getByRole('checkbox', { name: 'Remind me to log my mood every day' }).check()
  t.match(await section.textContent(), /In your time zone, Europe\/Paris/, 'the time zone is shown')
  await section.getByLabel('Reminder time').fill('21:30')
  await section.getByRole('button', { name: 'Save reminder' }).click()
  await section.getByText('Saved: a reminder at 21:30 (Europe/Paris).').waitFor()
  t.same(await (await context.request.get('/notify/mood-reminder')).json(), { time: '21:30', timezone: 'Europe/Paris' }, 'the reminder is saved')
  await page.reload()
  await section.getByLabel('Reminder time').waitFor()
  t.equal(await section.getByLabel('Reminder time').inputValue(), '21:30', 'and shown after a reload')

  // A webhook: a refused URL names the field; a good one shows its secret once.
  await section.getByLabel('Endpoint URL').fill('ftp://example.com/hooks')
  await section.getByRole('button', { name: 'Add endpoint' }).click()
  const urlError = section.locator('#f-endpoint-url-error')
  await urlError.waitFor()
  t.ok((await urlError.textContent())!.length > 0, `the refusal is shown next to the URL field: ${await urlError.textContent()}`)
  t.equal(await section.getByLabel('Endpoint URL').getAttribute('aria-invalid'), 'true')
  await section.getByLabel('Endpoint URL').fill(receiver.url)
  await section.getByLabel('Description (optional)').fill('my receiver')
  await section.getByRole('button', { name: 'Add endpoint' }).click()
  const secretBox = section.getByRole('region', { name: 'Signing secret' })
  await secretBox.waitFor()
  t.match(await secretBox.textContent(), /you will not see it again/)
  const secret = (await secretBox.locator('pre code').textContent()) ?? ''
  t.match(secret, /^whsec_/, 'the secret is shown')
  t.equal(await page.locator('#f-endpoint-url-error').count(), 0, 'the earlier error is gone')
  const endpoint = section.getByRole('listitem', { name: `Endpoint ${receiver.url}` })
  await endpoint.waitFor()
  t.match(await endpoint.textContent(), /on.*Nothing delivered yet/s, 'listed, on, nothing delivered')
  await checkLayout(t, page, 'settings-notifications-secret')
  await section.getByRole('button', { name: 'I have saved it' }).click()
  t.equal(await secretBox.count(), 0, 'the secret is gone')
  t.notOk((await (await context.request.get('/notify/webhooks')).text()).includes(secret), 'and the API never shows it again')

  // A test event: the receiver gets it signed with that secret, the page shows the outcome and the log.
  await endpoint.getByRole('button', { name: 'Send test event to my receiver' }).click()
  await endpoint.getByText(/Test event delivered \(HTTP 200, \d+ ms\)\./).waitFor()
  t.equal(receiver.received.length, 1, 'the receiver got the test event')
  const hook = receiver.received[0]!
  t.match(new Webhook(secret).verify(hook.body, hook.headers as Record<string, string>), { type: 'webhook.test' }, 'with a valid signature')
  await endpoint.getByText('Delivery log').click()
  const row = endpoint.locator('.deliveries tbody tr')
  t.equal(await eventually(() => row.count(), (n) => n === 1), 1, 'one delivery in the log')
  t.match(await row.first().textContent(), /webhook\.test.*sent.*1.*HTTP 200.*\d+ ms/s, 'kind, status, attempt, answer, latency')
  await checkLayout(t, page, 'settings-notifications-log')

  // Rotating the secret asks first and shows the new one once.
  await endpoint.getByRole('button', { name: 'Rotate secret of my receiver' }).click()
  await endpoint.getByRole('button', { name: 'Yes, make a new secret' }).click()
  await secretBox.waitFor()
  const rotated = (await secretBox.locator('pre code').textContent()) ?? ''
  t.match(rotated, /^whsec_/)
  t.not(rotated, secret, 'a new secret')
  await section.getByRole('button', { name: 'I have saved it' }).click()

  // Notify stops: the part says so, the rest of the settings page still works, and it comes back by itself.
  const notify = e2e.stack.children.find((c: { name: string }) => c.name === 'notify')!
  await new Promise((resolve) => { notify.child.once('exit', resolve); notify.child.kill('SIGTERM') })
  await page.reload()
  await section.getByText('Notifications is unavailable right now.').waitFor()
  await page.getByRole('heading', { name: 'Where you are signed in' }).waitFor()
  t.equal(await page.locator('.sessions li').count(), 1, 'the sessions still show')
  await screenshot(page, 'settings-notifications-down-1280')
  const again = await startStack({ env: e2e.stack.env, ports: { notify: Number(new URL(urlOf(e2e, 'notify')).port) }, stdio: ['ignore', 'ignore', 'inherit'], only: ['notify'] })
  t.teardown(() => again.stop())
  await endpoint.waitFor({ timeout: 30_000 })
  t.pass('the part comes back once notify answers again')

  // Deleting asks first.
  await endpoint.getByRole('button', { name: 'Delete my receiver' }).click()
  await endpoint.getByRole('button', { name: 'Yes, delete' }).click()
  await section.getByText(`Endpoint ${receiver.url} deleted.`).waitFor()
  t.equal(await eventually(() => endpoint.count(), (n) => n === 0), 0, 'gone from the list')
  t.same(await (await context.request.get('/notify/webhooks')).json(), { items: [] }, 'and from the API')
  t.same(problems, [], 'no CSP violation, no request to another origin')
})
