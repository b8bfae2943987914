import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import type { Teardown } from '@pulse/testing'

export const CHROMIUM = process.env.PULSE_CHROMIUM ?? '/usr/bin/chromium'
export const SCREENSHOTS = fileURLToPath(new URL('../screenshots', import.meta.url))

/** Debian's Chromium, headless, with nothing that reaches out to the internet by itself. */
export async function launchChromium (t: Teardown): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set PULSE_CHROMIUM)`)
  // Playwright gives each launch a fresh, temporary profile (its own --user-data-dir).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    timeout: 60_000
  })
  t.teardown(() => browser.close())
  return browser
}

/**
 * A fresh context (no cookies) at a width. Records every CSP violation and every request to another
 * origin than the gateway's or the simulator's consent pages: the dashboard must make none.
 */
export async function newContext (browser: Browser, gateway: string, width = 1280) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, baseURL: gateway, locale: 'en-GB', timezoneId: 'Europe/Paris' })
  context.setDefaultTimeout(30_000)
  const problems: string[] = []
  const gatewayOrigin = new URL(gateway).origin
  context.on('request', (request) => {
    const origin = new URL(request.url()).origin
    if (origin !== gatewayOrigin && !/^http:\/\/127\.0\.0\.1:\d+$/.test(origin)) problems.push(`request to ${request.url()}`)
  })
  context.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`)
  })
  return { context, problems }
}

const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export interface AxeViolation { id: string, impact: string | null, help: string, nodes: { target: string[] }[] }

/**
 * axe-core in the page. Evaluated through the DevTools protocol, not as a <script>: the page's CSP
 * (rightly) refuses inline scripts.
 */
export async function axeViolations (page: Page): Promise<AxeViolation[]> {
  await page.evaluate(await axeSource)
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: AxeViolation[] }> } }).axe
    return await axe.run(document, { resultTypes: ['violations'] })
  })
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

export async function screenshot (page: Page, name: string) {
  await mkdir(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

export type { Browser, BrowserContext, Page }

/** Approves on the simulator's consent page as `login`, by clicks. */
export async function consent (page: Page, login: string): Promise<void> {
  await page.waitForURL(/\/oauth|\/authorize|sim/i)
  await page.getByRole('radio', { name: new RegExp(`^${login}\\b`) }).check()
  await page.getByRole('button', { name: 'Authorize' }).click()
}

/**
 * From the overview, connects Twitch and X through their consent pages (as `twitch` and `x`), and
 * waits until the first refresh of each shows on the page.
 */
export async function connectBothProviders (page: Page, gateway: string, { twitch, x }: { twitch: string, x: string }): Promise<void> {
  await page.getByRole('link', { name: 'Connect Twitch' }).click()
  await consent(page, twitch)
  await page.waitForURL(`${gateway}/dashboard`)
  await page.getByRole('link', { name: 'Connect X' }).click()
  await consent(page, x)
  await page.waitForURL(`${gateway}/dashboard`)
  // The first refresh follows the connection by itself; the page shows it live.
  await page.locator('[data-provider="twitch"] [data-metric="followers"]').waitFor({ timeout: 60_000 })
  await page.locator('[data-provider="twitter"] [data-metric="followers"]').waitFor({ timeout: 60_000 })
}
