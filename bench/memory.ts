// Issue "Speed at scale": the resident memory of every service as the images run it (compiled,
// NODE_ENV=production), idle and under load. All seven run side by side, as in a deployment; each is
// then loaded in turn through the gateway with a logged-in user.
import path from 'node:path'
import { migrateToLatest } from '@pulse/service-kit'
import { runLoad } from './lib/load.js'
import { ROOT, nodeServer, rssMiB, startPinned, stopAll, type Server } from './lib/processes.js'
import { PRODUCTION_ENV } from './lib/production.js'

const PORTS = { gateway: 3963, auth: 3964, mood: 3965, contact: 3966, notify: 3967, 'twitch-ingest': 3968, 'twitter-ingest': 3969 } as const
type Service = keyof typeof PORTS
const SERVICES = Object.keys(PORTS) as Service[]
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pulse_bench'
export const MEMORY_CONNECTIONS = 10
/** Seconds the started services are left alone before their idle RSS is read (V8's memory reducer runs after ~30 s without much allocation). */
export const MEMORY_SETTLE_S = Number(process.env.BENCH_MEMORY_SETTLE_S ?? 40)
/** The target for every service's idle RSS. */
export const IDLE_TARGET_MIB = 80

/** The request each service is loaded with, through the gateway. */
const LOADS: Array<{ service: Service, method: 'GET' | 'POST', path: string, body?: object }> = [
  { service: 'auth', method: 'GET', path: '/auth/me' },
  { service: 'mood', method: 'GET', path: '/mood' },
  { service: 'contact', method: 'POST', path: '/contact', body: { name: 'Bench', email: 'bench@example.com', subject: 'load', message: 'Hello from the benchmark' } },
  { service: 'notify', method: 'GET', path: '/notify/settings' },
  { service: 'twitch-ingest', method: 'GET', path: '/twitch/overview' },
  { service: 'twitter-ingest', method: 'GET', path: '/twitter/overview' }
]

export interface MemoryRow {
  service: Service
  /** RSS a few seconds after start-up (health answered). */
  startedMiB: number
  /** RSS after MEMORY_SETTLE_S seconds without requests. */
  idleMiB: number
  /** Peak RSS while loaded (the gateway: over all the loads). */
  loadedMiB: number
  load: string
}

export async function benchMemory ({ durationSeconds = 10 } = {}): Promise<MemoryRow[]> {
  const servers = new Map<Service, Server>()
  const stamp = Date.now()
  const common = { ...PRODUCTION_ENV, DATABASE_URL, REDIS_PREFIX: `benchmem${stamp}:`, NATS_PREFIX: `benchmem${stamp}` }
  try {
    for (const service of SERVICES.filter((s) => s !== 'gateway')) {
      await migrateToLatest({ url: DATABASE_URL, schema: service.replace('-', '_'), folder: path.join(ROOT, `services/${service}/src/db/migrations`) })
    }
    const upstreams = {
      AUTH_URL: PORTS.auth, MOOD_URL: PORTS.mood, CONTACT_URL: PORTS.contact, NOTIFY_URL: PORTS.notify,
      TWITCH_INGEST_URL: PORTS['twitch-ingest'], TWITTER_INGEST_URL: PORTS['twitter-ingest']
    }
    const env: Record<Service, Record<string, string>> = {
      gateway: { ...Object.fromEntries(Object.entries(upstreams).map(([k, port]) => [k, `http://127.0.0.1:${port}`])), RATE_LIMIT_PER_USER: '1000000000', RATE_LIMIT_PER_ADDRESS: '1000000000' },
      auth: {},
      mood: {},
      contact: { CONTACT_RATE_LIMIT_MAX: '100000000' },
      notify: { AUTH_URL: `http://127.0.0.1:${PORTS.auth}` },
      'twitch-ingest': {},
      'twitter-ingest': {}
    }
    // Compiled first (one at a time: the build must not race), then started side by side.
    const commands = SERVICES.map((service) => nodeServer(`services/${service}/src/server.ts`))
    await Promise.all(SERVICES.map(async (service, i) => {
      servers.set(service, await startPinned(service, commands[i]!, { env: { ...common, ...env[service], PORT: String(PORTS[service]) }, url: `http://127.0.0.1:${PORTS[service]}/health` }))
    }))
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const rss = (service: Service) => rssMiB(servers.get(service)!.pid)
    const started = new Map(SERVICES.map((s) => [s, rss(s)]))
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, MEMORY_SETTLE_S - 3) * 1000))
    const idle = new Map(SERVICES.map((s) => [s, rss(s)]))

    const base = `http://127.0.0.1:${PORTS.gateway}`
    const reg = await fetch(`${base}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: `mem${stamp}`, password: 'benchmark password' }) })
    if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${await reg.text()}`)
    const cookie = reg.headers.getSetCookie()[0]!.split(';')[0]!

    const loaded = new Map<Service, number>()
    const proc = (service: Service) => ({ name: service, pids: [servers.get(service)!.pid] })
    const loadText = new Map<Service, string>()
    for (const { service, method, path: url, body } of LOADS) {
      const result = await runLoad({
        url: `${base}${url}`, method, connections: MEMORY_CONNECTIONS, durationSeconds,
        headers: { cookie, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        processes: [proc('gateway'), proc(service)]
      })
      for (const m of result.memory) loaded.set(m.name as Service, Math.max(loaded.get(m.name as Service) ?? 0, m.peakMiB))
      const answers = result.non2xx > 0 ? `, ${result.non2xx} not 2xx` : ''
      loadText.set(service, `${method} ${url} through the gateway: ${result.requestsPerSecond} req/s${answers}${result.errors > 0 ? `, ${result.errors} errors` : ''}`)
    }
    loadText.set('gateway', 'every load of the rows below')
    return SERVICES.map((service) => ({ service, startedMiB: started.get(service)!, idleMiB: idle.get(service)!, loadedMiB: loaded.get(service)!, load: loadText.get(service)! }))
  } finally {
    await stopAll([...servers.values()])
  }
}
