// Issue "Accounts, sessions and the gateway" — the cost of the authenticated Pulse hop, side by side
// with calling the upstream directly, nginx as a plain reverse proxy, and a raw node:http server.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { migrateToLatest, signIdentity } from '@pulse/service-kit'
import { runLoad, type LoadResult } from './lib/load.js'
import { ROOT, childrenOf, nodeServer, pidsOf, startPinned, stopAll, type Proc, type Server } from './lib/processes.js'

const IDENTITY_SECRET = 'bench-identity-secret-0123456789abcdef0123'
const SESSION_SECRET = 'bench-session-secret-0123456789abcdef01234567'
// Auth refuses its development secrets and the simulator's provider secrets in production.
const AUTH_SECRETS = {
  TOKEN_ENCRYPTION_KEYS: `bench:${Buffer.from('bench-token-key-0123456789abcdef').toString('base64')}`,
  TWITCH_CLIENT_SECRET: 'bench-twitch-client-secret',
  TWITTER_API_SECRET: 'bench-x-api-secret'
}
const PORTS = { upstream: 3901, hello: 3902, nginx: 3903, gateway: 3904, auth: 3905, nodeProxy: 3906 }
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

export const GATEWAY_CONNECTIONS = 50

export async function benchGateway ({ connections = GATEWAY_CONNECTIONS, durationSeconds = 10 } = {}): Promise<Row[]> {
  const servers: Server[] = []
  const rows: Row[] = []
  const common = { IDENTITY_SECRET, SESSION_SECRET, LOG_LEVEL: 'warn', NODE_ENV: 'production', REDIS_PREFIX: 'bench:' }
  try {
    await migrateToLatest({ url: DATABASE_URL, schema: 'auth', folder: path.join(ROOT, 'services/auth/src/db/migrations') })
    const upstream = await startPinned('upstream', nodeServer('bench/servers/upstream.ts'), { env: { ...common, PORT: String(PORTS.upstream) }, url: `http://127.0.0.1:${PORTS.upstream}/health` })
    servers.push(upstream)
    const hello = await startPinned('hello', [process.execPath, 'bench/servers/hello.mjs'], { env: { PORT: String(PORTS.hello) }, url: `http://127.0.0.1:${PORTS.hello}/` })
    servers.push(hello)
    const auth = await startPinned('auth', nodeServer('services/auth/src/server.ts'), { env: { ...common, ...AUTH_SECRETS, PORT: String(PORTS.auth), DATABASE_URL }, url: `http://127.0.0.1:${PORTS.auth}/health` })
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
    const assertion = signIdentity({ userId, role: 'user', timezone: 'UTC', requestId: 'bench', audience: 'mood' }, IDENTITY_SECRET, 3600)
    const proc = (server: Server): Proc => ({ name: server.name, pids: [server.pid] })
    // The session lives in Redis (a shared system server: its CPU counts, its memory is not reported);
    // auth is up but off the measured path once the session is cached.
    const redis: Proc = { name: 'redis', pids: pidsOf(/^redis-server/), shared: true }

    const load = { connections, durationSeconds, method: 'GET' as const }
    rows.push({ scenario: 'upstream called directly (signed identity, verified)', result: await runLoad({ ...load, url: `http://127.0.0.1:${PORTS.upstream}/mood/ping`, headers: { 'x-pulse-identity': assertion }, processes: [proc(upstream)] }) })
    rows.push({ scenario: 'through the Pulse gateway, logged in (session resolved, identity signed and verified)', result: await runLoad({ ...load, url: `http://127.0.0.1:${PORTS.gateway}/mood/ping`, headers: { cookie }, processes: [proc(gateway), proc(upstream), redis, { ...proc(auth), cpu: false }] }) })

    if (existsSync('/usr/sbin/nginx')) {
      const dir = mkdtempSync(path.join(tmpdir(), 'pulse-bench-nginx-'))
      const nginx = await startPinned('nginx', ['/usr/sbin/nginx', '-c', nginxConfig(dir), '-p', dir], { url: `http://127.0.0.1:${PORTS.nginx}/health` })
      servers.push(nginx)
      const nginxProc: Proc = { name: 'nginx', pids: [nginx.pid, ...childrenOf(nginx.pid)] }
      rows.push({ scenario: 'through nginx as a plain reverse proxy', result: await runLoad({ ...load, url: `http://127.0.0.1:${PORTS.nginx}/mood/ping`, headers: { 'x-pulse-identity': assertion }, processes: [nginxProc, proc(upstream)] }) })
    } else {
      rows.push({ scenario: 'through nginx as a plain reverse proxy', result: null, note: 'nginx not installed (apt-get install nginx-light)' })
    }
    const nodeProxy = await startPinned('node-proxy', [process.execPath, 'bench/servers/node-proxy.mjs'], {
      env: { PORT: String(PORTS.nodeProxy), UPSTREAM_URL: `http://127.0.0.1:${PORTS.upstream}`, ASSERTION: assertion },
      url: `http://127.0.0.1:${PORTS.nodeProxy}/health`
    })
    servers.push(nodeProxy)
    rows.push({ scenario: 'through a bare Node proxy (node:http + undici, no framework, no session): the floor for a proxy in Node', result: await runLoad({ ...load, url: `http://127.0.0.1:${PORTS.nodeProxy}/mood/ping`, processes: [proc(nodeProxy), proc(upstream)] }) })
    rows.push({ scenario: 'raw node:http hello (the floor)', result: await runLoad({ ...load, url: `http://127.0.0.1:${PORTS.hello}/`, processes: [proc(hello)] }) })
  } finally {
    await stopAll(servers)
  }
  return rows
}
