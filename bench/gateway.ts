// Issue "Accounts, sessions and the gateway" — the cost of the authenticated Pulse hop, side by side
// with calling the upstream directly, nginx as a plain reverse proxy, and a raw node:http server.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { migrateToLatest, signIdentity } from '@pulse/service-kit'
import { runLoad, type LoadResult } from './lib/load.js'
import { ROOT, nodeServer, pidsOf, startPinned, stopAll, type Server } from './lib/processes.js'

const IDENTITY_SECRET = 'bench-identity-secret-0123456789abcdef0123'
const SESSION_SECRET = 'bench-session-secret-0123456789abcdef01234567'
const PORTS = { upstream: 3901, hello: 3902, nginx: 3903, gateway: 3904, auth: 3905 }
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pulse_bench'

export interface Row { scenario: string, result: LoadResult | null, note?: string }

function nginxConfig (dir: string): string {
  const file = path.join(dir, 'nginx.conf')
  writeFileSync(file, `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  upstream pulse_upstream { server 127.0.0.1:${PORTS.upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${PORTS.nginx};
    location / {
      proxy_pass http://pulse_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
`)
  return file
}

export async function benchGateway ({ connections = 50, durationSeconds = 10 } = {}): Promise<Row[]> {
  const servers: Server[] = []
  const rows: Row[] = []
  const common = { IDENTITY_SECRET, SESSION_SECRET, LOG_LEVEL: 'warn', NODE_ENV: 'production', REDIS_PREFIX: 'bench:' }
  try {
    await migrateToLatest({ url: DATABASE_URL, schema: 'auth', folder: path.join(ROOT, 'services/auth/src/db/migrations') })
    const upstream = await startPinned('upstream', nodeServer('bench/servers/upstream.ts'), { env: { ...common, PORT: String(PORTS.upstream) }, url: `http://127.0.0.1:${PORTS.upstream}/health` })
    servers.push(upstream)
    const hello = await startPinned('hello', [process.execPath, 'bench/servers/hello.mjs'], { env: { PORT: String(PORTS.hello) }, url: `http://127.0.0.1:${PORTS.hello}/` })
    servers.push(hello)
    const auth = await startPinned('auth', nodeServer('services/auth/src/server.ts'), { env: { ...common, PORT: String(PORTS.auth), DATABASE_URL }, url: `http://127.0.0.1:${PORTS.auth}/health` })
    servers.push(auth)
    const gateway = await startPinned('gateway', nodeServer('services/gateway/src/server.ts'), {
      env: { ...common, PORT: String(PORTS.gateway), AUTH_URL: `http://127.0.0.1:${PORTS.auth}`, MOOD_URL: `http://127.0.0.1:${PORTS.upstream}`, RATE_LIMIT_PER_USER: '1000000000', RATE_LIMIT_PER_ADDRESS: '1000000000' },
      url: `http://127.0.0.1:${PORTS.gateway}/health`
    })
    servers.push(gateway)

    // A real login through the gateway gives the session cookie the benchmark uses.
    const username = `bench${Date.now()}`
    const reg = await fetch(`http://127.0.0.1:${PORTS.gateway}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'benchmark password' }) })
    if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${await reg.text()}`)
    const cookie = reg.headers.getSetCookie()[0]!.split(';')[0]!
    const userId = ((await reg.json()) as { user: { id: string } }).user.id
    const assertion = signIdentity({ userId, role: 'user', timezone: 'UTC', requestId: 'bench' }, IDENTITY_SECRET, 3600)
    const redisPids = pidsOf(/^redis-server/)

    const load = { connections, durationSeconds, method: 'GET' as const }
    rows.push({ scenario: 'upstream called directly (signed identity, verified)', result: await runLoad({ ...load, url: `http://127.0.0.1:${PORTS.upstream}/mood/ping`, headers: { 'x-pulse-identity': assertion }, pids: [upstream.pid] }) })
    rows.push({ scenario: 'through the Pulse gateway, logged in (session resolved, identity signed and verified)', result: await runLoad({ ...load, url: `http://127.0.0.1:${PORTS.gateway}/mood/ping`, headers: { cookie }, pids: [gateway.pid, upstream.pid, ...redisPids] }) })

    if (existsSync('/usr/sbin/nginx')) {
      const dir = mkdtempSync(path.join(tmpdir(), 'pulse-bench-nginx-'))
      const nginx = await startPinned('nginx', ['/usr/sbin/nginx', '-c', nginxConfig(dir), '-p', dir], { url: `http://127.0.0.1:${PORTS.nginx}/health` })
      servers.push(nginx)
      const nginxPids = pidsOf(new RegExp(`nginx.*${dir}|nginx: worker`))
      rows.push({ scenario: 'through nginx as a plain reverse proxy', result: await runLoad({ ...load, url: `http://127.0.0.1:${PORTS.nginx}/mood/ping`, headers: { 'x-pulse-identity': assertion }, pids: [...nginxPids, upstream.pid] }) })
    } else {
      rows.push({ scenario: 'through nginx as a plain reverse proxy', result: null, note: 'nginx not installed (apt-get install nginx-light)' })
    }
    rows.push({ scenario: 'raw node:http hello (the floor)', result: await runLoad({ ...load, url: `http://127.0.0.1:${PORTS.hello}/`, pids: [hello.pid] }) })
  } finally {
    await stopAll(servers)
  }
  return rows
}

export function versions (): Record<string, string> {
  const tryRun = (cmd: string, args: string[]) => { try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n')[0]! } catch (e) { return String((e as { stderr?: string }).stderr ?? 'n/a').trim().split('\n')[0]! } }
  return {
    node: process.version,
    nginx: tryRun('sh', ['-c', '/usr/sbin/nginx -v 2>&1']),
    redis: tryRun('redis-server', ['--version']),
    cpu: tryRun('sh', ['-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]),
    cores: tryRun('sh', ['-c', 'grep -c ^processor /proc/cpuinfo'])
  }
}
