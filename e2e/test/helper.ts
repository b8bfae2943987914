import { spawn } from 'node:child_process'
import path from 'node:path'
import pg from 'pg'
import { createTestDatabase, freePort, startSmtpServer, testInfra, uniqueName, type ReceivedMail, type Teardown } from '@pulse/testing'

export { freePort }
import { PROCESSES, ROOT, migrateAll, presentProcesses, startStack, type RunningStack } from '../../scripts/stack.mjs'

export interface E2EStack {
  gateway: string
  simulator: string
  stack: RunningStack
  env: Record<string, string>
  /** The mails the stack sent, as its SMTP server received them. */
  mails: ReceivedMail[]
  /** Runs a service's command (as an operator would) with the stack's settings. */
  runCommand: (dir: string, script: string, args: string[]) => Promise<{ code: number | null, output: string }>
}

/**
 * The whole local stack as separate processes, started the way `pnpm start` starts it (same module,
 * same migrations), on free ports, with its own database, Redis key prefix and NATS prefix.
 */
export async function startE2E (t: Teardown, env: Record<string, string> = {}, only?: string[]): Promise<E2EStack> {
  const infra = await testInfra()
  const ports: Record<string, number> = {}
  for (const p of PROCESSES) ports[p.name] = await freePort()
  const gateway = `http://127.0.0.1:${ports.gateway}`
  // Mail goes to a real SMTP server of the test's own (the local stack's maildev is not started).
  const smtp = await startSmtpServer(t)
  const fullEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: env.DATABASE_URL ?? await createTestDatabase(t),
    REDIS_URL: infra.redisUrl,
    REDIS_PREFIX: `${uniqueName('e2e')}:`,
    NATS_URL: infra.natsUrl,
    NATS_PREFIX: uniqueName('e2e'),
    PUBLIC_URL: gateway,
    FRONTEND_URL: gateway,
    LOG_LEVEL: 'warn',
    SIM_CONTROL: 'true',
    SMTP_URL: smtp.url,
    // Where Twitch (the simulator) posts EventSub messages, for a test that turns EventSub on.
    TWITCH_EVENTSUB_CALLBACK_URL: `${gateway}/webhooks/twitch`,
    ...env
  }
  await migrateAll(fullEnv, { stdio: ['ignore', 'ignore', 'inherit'] })
  const stack = await startStack({ env: fullEnv, ports, stdio: ['ignore', 'ignore', 'inherit'], only })
  t.teardown(() => stack.stop())
  const runCommand = (dir: string, script: string, args: string[]) => new Promise<{ code: number | null, output: string }>((resolve) => {
    const child = spawn(process.execPath, ['--conditions=pulse-source', '--import', 'tsx', script, ...args], { cwd: path.join(ROOT, dir), env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d) => { output += String(d) })
    child.stderr.on('data', (d) => { output += String(d) })
    child.on('exit', (code) => resolve({ code, output }))
  })
  return { gateway, simulator: `http://127.0.0.1:${ports['provider-sim']}`, stack, env: fullEnv, runCommand, mails: smtp.mails }
}

export const present = (name: string) => presentProcesses().some((p) => p.name === name)

/** The URL of one process of the stack. */
export function urlOf (e2e: E2EStack, name: string): string {
  const child = e2e.stack.children.find((c) => c.name === name)
  if (child === undefined) throw new Error(`${name} is not running`)
  return child.url
}

export interface Answer {
  status: number
  headers: Headers
  json: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string
}

/** A browser against the gateway: one cookie jar, redirects followed by hand when asked. */
export class Browser {
  readonly cookies = new Map<string, string>()
  constructor (readonly base: string) {}

  async fetch (target: string, init: { method?: string, body?: unknown, headers?: Record<string, string> } = {}): Promise<Answer> {
    const url = target.startsWith('http') ? target : `${this.base}${target}`
    const headers: Record<string, string> = { ...init.headers }
    if (url.startsWith(this.base) && this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    if (init.body !== undefined) headers['content-type'] ??= 'application/json'
    const res = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), redirect: 'manual' })
    if (url.startsWith(this.base)) {
      for (const cookie of res.headers.getSetCookie()) {
        const [pair] = cookie.split(';')
        const eq = pair!.indexOf('=')
        const name = pair!.slice(0, eq)
        const value = pair!.slice(eq + 1)
        if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie) || /max-age=0/i.test(cookie)) this.cookies.delete(name)
        else this.cookies.set(name, value)
      }
    }
    const text = await res.text()
    let json: Answer['json'] = {}
    try { json = JSON.parse(text) as Answer['json'] } catch { /* not JSON */ }
    return { status: res.status, headers: res.headers, json, text }
  }

  /** Follows redirects like a browser (cookies for the gateway's origin only), returning the last answer and the URLs visited. */
  async follow (target: string, maxHops = 10): Promise<{ answer: Answer, visited: string[] }> {
    const visited: string[] = []
    let url = target.startsWith('http') ? target : `${this.base}${target}`
    for (let hop = 0; hop < maxHops; hop++) {
      visited.push(url)
      const answer = await this.fetch(url)
      const location = answer.headers.get('location')
      if (answer.status < 300 || answer.status >= 400 || location === null) return { answer, visited }
      url = new URL(location, url).toString()
    }
    throw new Error(`too many redirects: ${visited.join(' -> ')}`)
  }
}

/** A client of the stack's database, to read what was stored (never to write), closed when the test ends. */
export async function stackDatabase (t: Teardown, e2e: E2EStack): Promise<pg.Client> {
  const db = new pg.Client({ connectionString: e2e.env.DATABASE_URL })
  await db.connect()
  t.teardown(() => db.end())
  return db
}

/**
 * Clicks "Sign in with …" (or, logged in, "Connect …") and approves on the simulator's consent page
 * as `login`; `returnTo` as the dashboard sends it. Answers where the redirects ended.
 */
export async function approveProvider (browser: Browser, provider: 'twitch' | 'twitter', login: string, returnTo?: string): Promise<{ answer: Answer, visited: string[] }> {
  const start = await browser.fetch(`/auth/${provider}/login${returnTo === undefined ? '' : `?returnTo=${returnTo}`}`)
  if (start.status !== 302) throw new Error(`${provider} sign-in: ${start.status} ${start.text}`)
  const consent = new URL(start.headers.get('location')!)
  consent.searchParams.set('sim_user', login)
  consent.searchParams.set('sim_decision', 'approve')
  return await browser.follow(consent.toString())
}

/**
 * Polls until `ok` holds and returns that value; when it does not hold within `ms`, throws (failing
 * the test) with the last value seen, so a wait can never pass silently.
 */
export async function eventually<T> (fn: () => Promise<T>, ok: (value: T) => boolean, ms = 20_000, what = 'the condition'): Promise<T> {
  const end = Date.now() + ms
  let value = await fn()
  while (!ok(value)) {
    if (Date.now() >= end) throw new Error(`${what} not met within ${ms} ms; last value: ${describe(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
    value = await fn()
  }
  return value
}

function describe (value: unknown): string {
  if (value !== null && typeof value === 'object' && 'status' in value && 'text' in value) {
    const answer = value as Answer
    return `${answer.status} ${answer.text.slice(0, 300)}`
  }
  try { return JSON.stringify(value)?.slice(0, 300) ?? String(value) } catch { return String(value) }
}

/** Opens the gateway's /events for a browser and collects what arrives. */
export async function listen (browser: Browser) {
  const controller = new AbortController()
  const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  const res = await fetch(`${browser.base}/events`, { headers: { cookie }, signal: controller.signal })
  let text = ''
  const reader = res.body!.getReader()
  const done = (async () => {
    try { for (;;) { const { value, done } = await reader.read(); if (done) return; text += new TextDecoder().decode(value) } } catch { /* closed */ }
  })()
  return { status: res.status, text: () => text, close: async () => { controller.abort(); await done } }
}
