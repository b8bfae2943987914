// The machine and the versions a run measured: the servers as they answer, the libraries as the
// services under test resolve them (pnpm may hold several versions of one package).
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { ROOT } from './processes.js'

export interface Machine {
  cores: number
  cpu: string
  memoryGiB: number
  os: string
  node: string
  /** The undici inside Node (its `fetch`). */
  nodeUndici: string
  nginx: string
  redis: string
  postgres: string
  nats: string
  packages: Array<{ name: string, version: string, via?: string }>
}

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pulse_bench'
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
// The first server where NATS_URL lists a cluster.
const NATS_URL = (process.env.NATS_URL ?? 'nats://127.0.0.1:4222').split(',')[0]!.trim()

function run (command: string, args: string[]): string | null {
  try {
    // nginx -v writes to stderr
    return execFileSync('sh', ['-c', `${[command, ...args].join(' ')} 2>&1`], { encoding: 'utf8', timeout: 5000 }).trim().split('\n')[0]!
  } catch {
    return null
  }
}

/** Connects, writes `greeting` (if any), resolves with what the server said once `done` accepts it; null on error or after 2 s. */
function ask (url: string, defaultPort: number, greeting: string | null, done: (text: string) => boolean): Promise<string | null> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    let text = ''
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort) })
    const finish = (value: string | null) => {
      socket.destroy()
      resolve(value)
    }
    socket.setTimeout(2000, () => finish(null))
    socket.on('error', () => finish(null))
    socket.on('connect', () => { if (greeting !== null) socket.write(greeting) })
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8')
      if (done(text)) finish(text)
    })
  })
}

async function redisVersion (): Promise<string> {
  const info = await ask(REDIS_URL, 6379, 'INFO server\r\n', (text) => /redis_version:\S+/.test(text))
  const version = info === null ? null : /redis_version:(\S+)/.exec(info)?.[1]
  if (version != null) return version
  return /v=(\S+)/.exec(run('redis-server', ['--version']) ?? '')?.[1] ?? 'n/a'
}

/** A NATS server introduces itself with `INFO {json}` as soon as one connects. */
async function natsVersion (): Promise<string> {
  const info = await ask(NATS_URL, 4222, null, (text) => text.includes('\r\n'))
  try {
    if (info !== null) return (JSON.parse(info.slice(info.indexOf('{'), info.indexOf('\r\n'))) as { version: string }).version
  } catch { /* not JSON: ask the binary */ }
  return /v?(\d+\.\d+\.\d+\S*)/.exec(run('nats-server', ['--version']) ?? '')?.[1] ?? 'n/a'
}

async function postgresVersion (): Promise<string> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    const { rows } = await client.query<{ version: string }>('select version()')
    // 'PostgreSQL 15.20 (Debian 15.20-0+deb12u1) on x86_64-pc-linux-gnu, compiled by …'
    return rows[0]!.version.replace(/^PostgreSQL /, '').replace(/ on .*$/, '')
  } catch {
    return run('postgres', ['--version'])?.replace(/^postgres \(PostgreSQL\) /, '') ?? 'n/a'
  } finally {
    await client.end().catch(() => {})
  }
}

/** The folder of package `name` as Node would find it from `fromDir` (its own lookup paths), or null. */
function packageDir (name: string, fromDir: string): string | null {
  const require = createRequire(path.join(fromDir, 'package.json'))
  for (const dir of require.resolve.paths(name) ?? []) {
    if (existsSync(path.join(dir, name, 'package.json'))) return realpathSync(path.join(dir, name))
  }
  return null
}

function versionIn (dir: string): string {
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version
}

/**
 * `name` resolved from `from` (a workspace folder), following `chain` when it is not a direct
 * dependency there: `undici` through `@fastify/http-proxy` → `@fastify/reply-from`.
 */
function resolved (name: string, from: string, chain: string[] = []): { name: string, version: string, via?: string } {
  const start = path.join(ROOT, from)
  const direct = packageDir(name, start)
  if (direct !== null) return { name, version: versionIn(direct) }
  // The whole chain first: pnpm hoists stray copies where a lookup from a package in between would find them.
  let dir = start
  const via: string[] = []
  for (const step of chain) {
    const next = packageDir(step, dir)
    if (next === null) return { name, version: 'not installed' }
    via.push(`${step} ${versionIn(next)}`)
    dir = next
  }
  const found = chain.length === 0 ? null : packageDir(name, dir)
  return found === null ? { name, version: 'not installed' } : { name, version: versionIn(found), via: via.join(' → ') }
}

export async function machine (): Promise<Machine> {
  const cpus = os.cpus()
  const [redis, nats, postgres] = await Promise.all([redisVersion(), natsVersion(), postgresVersion()])
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    nodeUndici: process.versions.undici ?? 'n/a',
    nginx: /nginx\/(\S+)/.exec(run('/usr/sbin/nginx', ['-v']) ?? '')?.[1] ?? 'not installed',
    redis,
    postgres,
    nats,
    packages: [
      resolved('fastify', 'services/gateway'),
      resolved('@fastify/http-proxy', 'services/gateway'),
      resolved('undici', 'services/gateway', ['@fastify/http-proxy', '@fastify/reply-from']),
      resolved('pg', 'packages/service-kit'),
      resolved('kysely', 'packages/service-kit'),
      resolved('autocannon', 'bench')
    ]
  }
}

/** One line for a suite's block: enough to tell two machines apart. */
export function machineLine (m: Machine): string {
  return `${m.cores} cores ${m.cpu}, Node ${m.node}`
}

export function machineMarkdown (m: Machine): string {
  const packages = m.packages.map((p) => `${p.name} ${p.version}${p.via !== undefined ? ` (through ${p.via})` : ''}`)
  return [
    `- machine: ${m.cores} cores, ${m.cpu}; ${m.memoryGiB} GiB memory; ${m.os}`,
    `- servers: Node ${m.node} (its fetch: undici ${m.nodeUndici}), nginx ${m.nginx}, Redis ${m.redis}, PostgreSQL ${m.postgres}, NATS server ${m.nats}`,
    `- libraries as the services resolve them: ${packages.join(', ')}`
  ].join('\n')
}
