// The local stack: which processes make up Pulse, on which ports, with which settings. Used by the
// start command (scripts/start.mjs) and by the end-to-end tests, so both start it the same way.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Every process of the stack, in start order (the gateway last, once its upstreams answer). */
export const PROCESSES = [
  { name: 'provider-sim', dir: 'packages/provider-sim', port: 3100, simulator: true, healthPath: '/_sim/health' },
  { name: 'auth', dir: 'services/auth', port: 3001, urlVar: 'AUTH_URL', migrates: true },
  { name: 'mood', dir: 'services/mood', port: 3002, urlVar: 'MOOD_URL', migrates: true },
  { name: 'contact', dir: 'services/contact', port: 3003, urlVar: 'CONTACT_URL', migrates: true },
  { name: 'notify', dir: 'services/notify', port: 3006, urlVar: 'NOTIFY_URL', migrates: true },
  { name: 'twitch-ingest', dir: 'services/twitch-ingest', port: 3004, urlVar: 'TWITCH_INGEST_URL', migrates: true },
  { name: 'twitter-ingest', dir: 'services/twitter-ingest', port: 3005, urlVar: 'TWITTER_INGEST_URL', migrates: true },
  { name: 'gateway', dir: 'services/gateway', port: 3000 }
]

/**
 * maildev (npm): an SMTP server that keeps every mail and shows it in a browser, so the mails Pulse
 * sends (address checks, password resets) can be read locally. Started unless SMTP_URL is set; its
 * SMTP port is `ports['maildev-smtp']` (default 1025), its web page `ports.maildev` (default 1080).
 */
export const MAILDEV = { name: 'maildev', port: 1080, smtpPort: 1025, healthPath: '/api/email', page: '/index.html' }

/** The simulator's fixed development credentials (docs/api.md, "The provider simulator"). */
export const SIMULATOR_CREDENTIALS = {
  TWITCH_CLIENT_ID: 'pulsesimtwitchclientid00000000',
  TWITCH_CLIENT_SECRET: 'pulsesimtwitchclientsecret0000',
  TWITTER_API_KEY: 'pulsesimxconsumerkey0000',
  TWITTER_API_SECRET: 'pulsesimxconsumersecret000000000000000000000'
}

export const INFRASTRUCTURE = [
  {
    name: 'PostgreSQL', variable: 'DATABASE_URL', fallback: 'postgres://postgres@127.0.0.1:5432/pulse',
    howToStart: 'on Debian/Ubuntu: sudo pg_ctlcluster $(ls /etc/postgresql) main start; with Docker: docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:17'
  },
  {
    name: 'Redis', variable: 'REDIS_URL', fallback: 'redis://127.0.0.1:6379',
    howToStart: 'redis-server --daemonize yes; with Docker: docker run -d -p 6379:6379 redis:7'
  },
  {
    name: 'NATS (with JetStream)', variable: 'NATS_URL', fallback: 'nats://127.0.0.1:4222',
    howToStart: 'nats-server -js -sd /tmp/nats &; with Docker: docker run -d -p 4222:4222 nats:2.11 -js'
  }
]

/** Processes whose source exists in this checkout (services land one issue at a time). */
export function presentProcesses () {
  return PROCESSES.filter((p) => existsSync(path.join(ROOT, p.dir, 'src', 'server.ts')))
}

export function answers (url, timeoutMs = 1000) {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) })
    socket.setTimeout(timeoutMs)
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => { socket.destroy(); resolve(false) })
  })
}

/** Returns the problems: one line per dependency that does not answer, with how to start it. */
export async function checkInfrastructure (env) {
  const problems = []
  for (const dep of INFRASTRUCTURE) {
    const url = env[dep.variable] ?? dep.fallback
    // NATS_URL may list the servers of a cluster: one that answers is enough to start.
    const urls = url.split(',').map((u) => u.trim())
    if (!(await Promise.all(urls.map((u) => answers(u)))).some(Boolean)) problems.push(`${dep.name} does not answer at ${url} (${dep.variable}). Start it: ${dep.howToStart}`)
  }
  return problems
}

function run (args, { cwd, env, stdio = 'inherit' }) {
  return spawn(process.execPath, ['--conditions=pulse-source', '--import', 'tsx', ...args], { cwd, env, stdio })
}

/** Runs every present service's migrations, one after another; rejects on the first failure. */
export async function migrateAll (env, { stdio = 'inherit' } = {}) {
  for (const p of presentProcesses().filter((p) => p.migrates)) {
    const cwd = path.join(ROOT, p.dir)
    await new Promise((resolve, reject) => {
      const child = run(['src/db/migrate.ts'], { cwd, env, stdio })
      child.on('exit', (code) => code === 0 ? resolve() : reject(new Error(`${p.name}: migrations failed (exit ${code})`)))
    })
  }
}

/**
 * The settings each process gets: the caller's environment, the simulator in place of Twitch and
 * X unless real credentials are configured, and every upstream URL for the gateway.
 */
export function stackEnvironment (baseEnv, ports = {}) {
  const portOf = (p) => ports[p.name] ?? p.port
  const useSimulator = baseEnv.TWITCH_CLIENT_ID === undefined && baseEnv.TWITTER_API_KEY === undefined
  const env = { ...baseEnv }
  if (useSimulator) {
    const sim = `http://127.0.0.1:${portOf(PROCESSES[0])}`
    Object.assign(env, SIMULATOR_CREDENTIALS, {
      TWITCH_AUTH_URL: `${sim}/oauth2`, TWITCH_API_URL: `${sim}/helix`, TWITTER_API_URL: sim
    }, Object.fromEntries(Object.entries(env).filter(([k]) => k in SIMULATOR_CREDENTIALS)))
  }
  for (const p of PROCESSES) if (p.urlVar !== undefined) env[p.urlVar] ??= `http://127.0.0.1:${portOf(p)}`
  const useMaildev = baseEnv.SMTP_URL === undefined
  if (useMaildev) env.SMTP_URL = `smtp://127.0.0.1:${ports['maildev-smtp'] ?? MAILDEV.smtpPort}`
  return { env, useSimulator, useMaildev, portOf }
}

async function waitForHealth (url, child, timeoutMs, healthPath = '/health') {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`)
    try {
      const res = await fetch(`${url}${healthPath}`)
      if (res.ok) return
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
  throw new Error(`no answer on ${url}${healthPath} after ${timeoutMs} ms`)
}

/**
 * Starts every present process (or those named in `only`) with its PORT, waits until each answers
 * its health check, and returns the children with a stop() that sends SIGTERM and waits for them.
 */
export async function startStack ({ env: baseEnv = process.env, ports = {}, stdio = 'inherit', healthTimeoutMs = 30_000, only } = {}) {
  const { env, useSimulator, useMaildev, portOf } = stackEnvironment(baseEnv, ports)
  const children = []
  const stop = async () => {
    await Promise.all(children.reverse().map(({ child }) => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', resolve)
      child.kill('SIGTERM')
    })))
  }
  try {
    if (useMaildev && (only === undefined || only.includes(MAILDEV.name))) {
      const port = portOf(MAILDEV)
      const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'maildev'), [
        '--smtp', String(ports['maildev-smtp'] ?? MAILDEV.smtpPort), '--ip', '127.0.0.1', '--web', String(port), '--web-ip', '127.0.0.1'
      ], { cwd: ROOT, env, stdio })
      const url = `http://127.0.0.1:${port}`
      children.push({ name: MAILDEV.name, child, url: `${url}${MAILDEV.page}` })
      await waitForHealth(url, child, healthTimeoutMs, MAILDEV.healthPath).catch((error) => { throw new Error(`${MAILDEV.name}: ${error.message}`) })
    }
    for (const p of presentProcesses()) {
      if (p.simulator && !useSimulator) continue
      if (only !== undefined && !only.includes(p.name)) continue
      const port = portOf(p)
      const child = run(['src/server.ts'], {
        cwd: path.join(ROOT, p.dir),
        env: { ...env, PORT: String(port), ...(p.simulator ? { SIM_CONTROL: env.SIM_CONTROL ?? 'false' } : {}) },
        stdio
      })
      const url = `http://127.0.0.1:${port}`
      children.push({ name: p.name, child, url })
      await waitForHealth(url, child, healthTimeoutMs, p.healthPath).catch((error) => { throw new Error(`${p.name}: ${error.message}`) })
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { children, env, stop }
}

export const DASHBOARD_DIR = path.join(ROOT, 'packages', 'dashboard')

/** Newest modification time of the dashboard's sources (what its build is made from). */
function newestSource (dir) {
  let newest = 0
  for (const name of ['index.html', 'vite.config.ts', 'package.json', 'src', 'public']) {
    const file = path.join(dir, name)
    if (!existsSync(file)) continue
    const stat = statSync(file)
    if (stat.isDirectory()) {
      for (const entry of readdirSync(file, { recursive: true, withFileTypes: true })) {
        if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs)
      }
    } else newest = Math.max(newest, stat.mtimeMs)
  }
  return newest
}

/** True when the dashboard has no build, or one older than any of its sources. */
export function dashboardBuildIsStale () {
  const index = path.join(DASHBOARD_DIR, 'dist', 'index.html')
  return !existsSync(index) || statSync(index).mtimeMs < newestSource(DASHBOARD_DIR)
}

/** Builds the dashboard (Vite, then its gzip/brotli copies) when its build is missing or stale. */
export async function buildDashboardIfNeeded ({ stdio = 'inherit', force = false } = {}) {
  if (!force && !dashboardBuildIsStale()) return false
  await new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['run', 'build'], { cwd: DASHBOARD_DIR, stdio })
    child.on('error', reject)
    child.on('exit', (code) => code === 0 ? resolve() : reject(new Error(`the dashboard's build failed (exit ${code})`)))
  })
  return true
}
