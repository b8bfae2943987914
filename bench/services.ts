// Issues "Mood" and "Contact": the dashboard's own endpoints through the gateway.
import path from 'node:path'
import { migrateToLatest } from '@pulse/service-kit'
import pg from 'pg'
import { runLoad, type LoadResult } from './lib/load.js'
import { PRODUCTION_ENV } from './lib/production.js'
import { ROOT, nodeServer, startPinned, stopAll, type Proc, type Server } from './lib/processes.js'

const PORTS = { gateway: 3910, auth: 3911, mood: 3912, contact: 3913 }
export const CONTACT_REQUESTS = 5000
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pulse_bench'

export interface ServiceRow { scenario: string, connections: number, result: LoadResult, note?: string }

async function register (gateway: string, username: string) {
  const res = await fetch(`${gateway}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'benchmark password' }) })
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`)
  return { cookie: res.headers.getSetCookie()[0]!.split(';')[0]!, id: ((await res.json()) as { user: { id: string } }).user.id }
}

export async function benchServices ({ durationSeconds = 10 } = {}): Promise<ServiceRow[]> {
  const servers: Server[] = []
  const rows: ServiceRow[] = []
  const common = { ...PRODUCTION_ENV, DATABASE_URL, REDIS_PREFIX: `bench${Date.now()}:`, NATS_PREFIX: `bench${Date.now()}` }
  const db = new pg.Client({ connectionString: DATABASE_URL })
  try {
    for (const [service, schema] of [['auth', 'auth'], ['mood', 'mood'], ['contact', 'contact']] as const) {
      await migrateToLatest({ url: DATABASE_URL, schema, folder: path.join(ROOT, `services/${service}/src/db/migrations`) })
    }
    const start = async (name: string, port: number, env: Record<string, string> = {}) => {
      const server = await startPinned(name, nodeServer(`services/${name}/src/server.ts`), { env: { ...common, PORT: String(port), ...env }, url: `http://127.0.0.1:${port}/health` })
      servers.push(server)
      return server
    }
    const auth = await start('auth', PORTS.auth)
    const mood = await start('mood', PORTS.mood)
    const contact = await start('contact', PORTS.contact, { CONTACT_RATE_LIMIT_MAX: '100000000', OUTBOX_POLL_INTERVAL_MS: '200' })
    const gateway = await start('gateway', PORTS.gateway, {
      AUTH_URL: `http://127.0.0.1:${PORTS.auth}`, MOOD_URL: `http://127.0.0.1:${PORTS.mood}`, CONTACT_URL: `http://127.0.0.1:${PORTS.contact}`,
      RATE_LIMIT_PER_USER: '1000000000', RATE_LIMIT_PER_ADDRESS: '1000000000'
    })
    const base = `http://127.0.0.1:${PORTS.gateway}`
    const stamp = Date.now()
    const veteran = await register(base, `veteran${stamp}`)
    const newcomer = await register(base, `newcomer${stamp}`)

    // Ten years of daily entries for one user, ten entries for the other (inserted directly: the
    // benchmark measures reading them).
    await db.connect()
    await db.query(`insert into mood.entries (user_id, score, logged_at, day, timezone)
      select $1, 1 + (g % 5), (current_date - g) + time '12:00', current_date - g, 'UTC' from generate_series(0, 3649) g`, [veteran.id])
    await db.query(`insert into mood.entries (user_id, score, logged_at, day, timezone)
      select $1, 3, (current_date - g) + time '12:00', current_date - g, 'UTC' from generate_series(0, 9) g`, [newcomer.id])
    await db.query('analyze mood.entries')

    const proc = (server: Server): Proc => ({ name: server.name, pids: [server.pid] })
    // Auth is up but off the measured path (the gateway caches sessions): memory reported, CPU not counted.
    const authMemory: Proc = { ...proc(auth), cpu: false }
    const processes = [proc(gateway), proc(mood), authMemory]
    // Unmeasured warm-up of the freshly started servers with both users: without it the first
    // scenario (whichever user it is) also pays for JIT compilation, which on a shared core takes
    // longer than runLoad's 2 s warm-up, and the two GET rows cannot be compared.
    for (const user of [veteran, newcomer]) await runLoad({ url: `${base}/mood`, method: 'GET', headers: { cookie: user.cookie }, connections: 10, durationSeconds: 3, processes })
    rows.push({ scenario: 'GET /mood, 10 years of daily entries (3,650), first page + streak', connections: 10, result: await runLoad({ url: `${base}/mood`, method: 'GET', headers: { cookie: veteran.cookie }, connections: 10, durationSeconds, processes }) })
    rows.push({ scenario: 'GET /mood, 10 entries, first page + streak', connections: 10, result: await runLoad({ url: `${base}/mood`, method: 'GET', headers: { cookie: newcomer.cookie }, connections: 10, durationSeconds, processes }) })
    rows.push({
      scenario: 'POST /mood', connections: 50,
      result: await runLoad({ url: `${base}/mood`, method: 'POST', headers: { cookie: newcomer.cookie, 'content-type': 'application/json' }, body: JSON.stringify({ score: 4, label: 'bench' }), connections: 50, durationSeconds, processes })
    })

    const before = Number((await db.query('select count(*) from contact.submissions')).rows[0].count)
    const result = await runLoad({
      url: `${base}/contact`, method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bench', email: 'bench@example.com', subject: 'load', message: 'Hello from the benchmark' }),
      connections: 50, durationSeconds, amount: CONTACT_REQUESTS, processes: [proc(gateway), proc(contact), authMemory]
    })
    const stored = Number((await db.query('select count(*) from contact.submissions')).rows[0].count) - before
    // The 2 s warm-up stops on a deadline: the requests then in flight (at most one per connection)
    // are stored but their 202s are never counted, so up to `connections` more rows than 202s is right.
    const extra = stored - result.accepted
    const verdict = extra === 0 ? 'every 202 is a row' : extra > 0 && extra <= 50 ? `every 202 is a row; ${extra} more rows: requests in flight when the warm-up stopped` : 'MISMATCH'
    rows.push({ scenario: 'POST /contact (5,000 requests)', connections: 50, result, note: `${result.accepted} answered 202 (warm-up included), ${stored} rows stored: ${verdict}` })
  } finally {
    await db.end().catch(() => {})
    await stopAll(servers)
  }
  return rows
}
