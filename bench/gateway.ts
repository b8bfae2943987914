// Issue "Accounts, sessions and the gateway" — the cost of the authenticated Pulse hop, side by side
// with calling the upstream directly, nginx as a plain reverse proxy, a bare Node proxy, the Node
// gateways one could use instead (issue "Speed at scale") and a raw node:http server. The Pulse
// servers run compiled under NODE_ENV=production as the images do; the gateway also from source
// (tsx), as the development stack runs it, in the same run.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { migrateToLatest, signIdentity } from '@pulse/service-kit'
import { runLoad, type LoadResult } from './lib/load.js'
import { ROOT, childrenOf, nodeServer, pidsOf, startPinned, stopAll, type Proc, type Server } from './lib/processes.js'
import { IDENTITY_SECRET, PRODUCTION_ENV } from './lib/production.js'

const PORTS = {
  upstream: 3901, hello: 3902, nginx: 3903, gateway: 3904, auth: 3905, nodeProxy: 3906,
  fastGateway: 3960, composer: 3961, httpProxy: 3962, gatewaySource: 3970
}
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pulse_bench'

/** The Node gateways measured beside Pulse's (devDependencies of this package; the versions are the newest that run on Node 20). */
export const PEERS = [
  { key: 'http-proxy', port: PORTS.httpProxy, script: 'bench/servers/http-proxy.mjs', scenario: 'through `@fastify/http-proxy` 11.6.3 with its defaults (Fastify + undici via reply-from, answers streamed)' },
  { key: 'fast-gateway', port: PORTS.fastGateway, script: 'bench/servers/fast-gateway.mjs', scenario: 'through `fast-gateway` 3.4.7 with its defaults (restana + fast-proxy-lite over node:http)' },
  { key: 'platformatic-composer', port: PORTS.composer, script: 'bench/servers/platformatic-composer.mjs', scenario: 'through `@platformatic/composer` 2.75.0 with its defaults (Fastify + @fastify/http-proxy)' }
] as const

/** `key` names the row for the summary under the table: direct, gateway, gateway-source, nginx, node-proxy, a peer's key, hello. */
export interface Row { key: string, scenario: string, result: LoadResult | null, note?: string }

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
  const common = { ...PRODUCTION_ENV, REDIS_PREFIX: 'bench:' }
  try {
    await migrateToLatest({ url: DATABASE_URL, schema: 'auth', folder: path.join(ROOT, 'services/auth/src/db/migrations') })
    const upstream = await startPinned('upstream', nodeServer('bench/servers/upstream.ts'), { env: { ...common, PORT: String(PORTS.upstream) }, url: `http://127.0.0.1:${PORTS.upstream}/health` })
    servers.push(upstream)
    const hello = await startPinned('hello', [process.execPath, 'bench/servers/hello.mjs'], { env: { PORT: String(PORTS.hello) }, url: `http://127.0.0.1:${PORTS.hello}/` })
    servers.push(hello)
    const auth = await startPinned('auth', nodeServer('services/auth/src/server.ts'), { env: { ...common, PORT: String(PORTS.auth), DATABASE_URL }, url: `http://127.0.0.1:${PORTS.auth}/health` })
    servers.push(auth)
    const gatewayEnv = { ...common, AUTH_URL: `http://127.0.0.1:${PORTS.auth}`, MOOD_URL: `http://127.0.0.1:${PORTS.upstream}`, RATE_LIMIT_PER_USER: '1000000000', RATE_LIMIT_PER_ADDRESS: '1000000000' }
    const gateway = await startPinned('gateway', nodeServer('services/gateway/src/server.ts'), { env: { ...gatewayEnv, PORT: String(PORTS.gateway) }, url: `http://127.0.0.1:${PORTS.gateway}/health` })
    servers.push(gateway)
    // The same gateway from source (tsx, as `pnpm start` runs it), still NODE_ENV=production: what the compiled build changes.
    const gatewaySource = await startPinned('gateway (tsx)', nodeServer('services/gateway/src/server.ts', 'source'), { env: { ...gatewayEnv, PORT: String(PORTS.gatewaySource) }, url: `http://127.0.0.1:${PORTS.gatewaySource}/health` })
    servers.push(gatewaySource)

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
    rows.push({ key: 'direct', scenario: 'upstream called directly (signed identity, verified)', result: await runLoad({ ...load, url: `http://127.0.0.1:${PORTS.upstream}/mood/ping`, headers: { 'x-pulse-identity': assertion }, processes: [proc(upstream)] }) })
    const throughGateway = (server: Server, port: number) => runLoad({ ...load, url: `http://127.0.0.1:${port}/mood/ping`, headers: { cookie }, processes: [proc(server), proc(upstream), redis, { ...proc(auth), cpu: false }] })
    rows.push({ key: 'gateway', scenario: 'through the Pulse gateway, compiled, logged in (session resolved, identity signed and verified)', result: await throughGateway(gateway, PORTS.gateway) })
    rows.push({ key: 'gateway-source', scenario: 'the same gateway from source (tsx, as `pnpm start` runs it)', result: await throughGateway(gatewaySource, PORTS.gatewaySource) })

    if (existsSync('/usr/sbin/nginx')) {
      const dir = mkdtempSync(path.join(tmpdir(), 'pulse-bench-nginx-'))
      const nginx = await startPinned('nginx', ['/usr/sbin/nginx', '-c', nginxConfig(dir), '-p', dir], { url: `http://127.0.0.1:${PORTS.nginx}/health` })
      servers.push(nginx)
      const nginxProc: Proc = { name: 'nginx', pids: [nginx.pid, ...childrenOf(nginx.pid)] }
      rows.push({ key: 'nginx', scenario: 'through nginx as a plain reverse proxy', result: await runLoad({ ...load, url: `http://127.0.0.1:${PORTS.nginx}/mood/ping`, headers: { 'x-pulse-identity': assertion }, processes: [nginxProc, proc(upstream)] }) })
    } else {
      rows.push({ key: 'nginx', scenario: 'through nginx as a plain reverse proxy', result: null, note: 'nginx not installed (apt-get install nginx-light)' })
    }
    const nodeProxy = await startPinned('node-proxy', [process.execPath, 'bench/servers/node-proxy.mjs'], {
      env: { PORT: String(PORTS.nodeProxy), UPSTREAM_URL: `http://127.0.0.1:${PORTS.upstream}`, ASSERTION: assertion },
      url: `http://127.0.0.1:${PORTS.nodeProxy}/health`
    })
    servers.push(nodeProxy)
    rows.push({ key: 'node-proxy', scenario: 'through a bare Node proxy (node:http + undici, no framework, no session): the floor for a proxy in Node', result: await runLoad({ ...load, url: `http://127.0.0.1:${PORTS.nodeProxy}/mood/ping`, processes: [proc(nodeProxy), proc(upstream)] }) })
    // The peers pass the client's headers through, the signed identity included (as nginx's row).
    for (const peer of PEERS) {
      const server = await startPinned(peer.key, [process.execPath, peer.script], {
        env: { PORT: String(peer.port), UPSTREAM_URL: `http://127.0.0.1:${PORTS.upstream}`, NODE_ENV: 'production' },
        url: `http://127.0.0.1:${peer.port}/mood/ping`
      })
      servers.push(server)
      rows.push({ key: peer.key, scenario: peer.scenario, result: await runLoad({ ...load, url: `http://127.0.0.1:${peer.port}/mood/ping`, headers: { 'x-pulse-identity': assertion }, processes: [proc(server), proc(upstream)] }) })
    }
    rows.push({ key: 'hello', scenario: 'raw node:http hello (the floor)', result: await runLoad({ ...load, url: `http://127.0.0.1:${PORTS.hello}/`, processes: [proc(hello)] }) })
  } finally {
    await stopAll(servers)
  }
  return rows
}
