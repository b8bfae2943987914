import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import t from 'tap'
import { startStack } from './helper.js'

const INDEX = '<!doctype html><html lang="en"><head><title>Pulse</title><script type="module" src="/assets/app-3f9a1c.js"></script></head><body><div id="app"></div></body></html>'
const SCRIPT = `console.log(${JSON.stringify('pulse '.repeat(200))})`

/** A dashboard build as Vite and the precompress step leave it: hashed assets, .gz and .br copies. */
async function writeBuild (dir: string) {
  await mkdir(path.join(dir, 'assets'), { recursive: true })
  for (const [name, content] of [['index.html', INDEX], ['assets/app-3f9a1c.js', SCRIPT]] as const) {
    await writeFile(path.join(dir, name), content)
    await writeFile(path.join(dir, `${name}.gz`), zlib.gzipSync(content))
    await writeFile(path.join(dir, `${name}.br`), zlib.brotliCompressSync(content))
  }
}

async function tempDir (t: { teardown: (fn: () => unknown) => void }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'pulse-dashboard-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('the dashboard is served at / with its pages, caching and compression', async (t) => {
  const dir = await tempDir(t)
  await writeBuild(dir)
  const stack = await startStack(t, { gatewayEnv: { DASHBOARD_DIR: dir } })
  const get = (url: string, headers: Record<string, string> = {}) => stack.gateway.inject({ method: 'GET', url, headers })

  const index = await get('/', { 'accept-encoding': 'identity' })
  t.equal(index.statusCode, 200)
  t.equal(index.body, INDEX)
  t.match(index.headers['content-type'], /^text\/html/)
  t.equal(index.headers['cache-control'], 'no-cache', 'the page is revalidated, so a new build shows at once')

  for (const page of ['/dashboard', '/dashboard/mood', '/dashboard/settings/connections', '/sign-in']) {
    const res = await get(page, { 'accept-encoding': 'identity' })
    t.equal(res.statusCode, 200, `${page} is one of the dashboard's pages`)
    t.equal(res.body, INDEX)
    t.equal(res.headers['cache-control'], 'no-cache')
  }

  const br = await get('/assets/app-3f9a1c.js', { 'accept-encoding': 'gzip, deflate, br' })
  t.equal(br.statusCode, 200)
  t.equal(br.headers['content-encoding'], 'br')
  t.equal(zlib.brotliDecompressSync(br.rawPayload).toString(), SCRIPT)
  t.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable', 'hashed names are cached for good')
  t.match(br.headers['content-type'], /javascript/)
  t.match(br.headers.vary, /accept-encoding/i)

  const gz = await get('/assets/app-3f9a1c.js', { 'accept-encoding': 'gzip' })
  t.equal(gz.headers['content-encoding'], 'gzip')
  t.equal(zlib.gunzipSync(gz.rawPayload).toString(), SCRIPT)

  const plain = await get('/assets/app-3f9a1c.js', { 'accept-encoding': 'identity' })
  t.equal(plain.headers['content-encoding'], undefined)
  t.equal(plain.body, SCRIPT)

  const indexBr = await get('/dashboard/twitch', { 'accept-encoding': 'br' })
  t.equal(indexBr.headers['content-encoding'], 'br')
  t.equal(zlib.brotliDecompressSync(indexBr.rawPayload).toString(), INDEX)
})

t.test('the content security policy allows only the gateway itself', async (t) => {
  const dir = await tempDir(t)
  await writeBuild(dir)
  const stack = await startStack(t, { gatewayEnv: { DASHBOARD_DIR: dir } })
  const res = await stack.gateway.inject({ method: 'GET', url: '/' })
  const csp = String(res.headers['content-security-policy'])
  const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]))
  for (const name of ['default-src', 'script-src', 'style-src', 'connect-src', 'font-src']) {
    t.same(directives.get(name), ["'self'"], `${name} is 'self' only`)
  }
  t.same(directives.get('img-src'), ["'self'", 'data:'])
  t.notMatch(csp, /unsafe-inline|unsafe-eval|https:/, 'no inline code or styles, no other origin')
  for (const url of ['/dashboard/mood', '/assets/app-3f9a1c.js', '/auth/me', '/nope']) {
    t.equal((await stack.gateway.inject({ method: 'GET', url })).headers['content-security-policy'], csp, `${url}: the same policy`)
  }

  // Swagger UI sets an inline style: its pages, and only they, allow inline styles.
  const docs = String((await stack.gateway.inject({ method: 'GET', url: '/docs/static/index.html' })).headers['content-security-policy'])
  t.match(docs, /style-src 'self' 'unsafe-inline'/)
  t.match(docs, /script-src 'self'(;|$)/, 'but no inline script')
})

t.test('API paths keep their behaviour next to the dashboard', async (t) => {
  const dir = await tempDir(t)
  await writeBuild(dir)
  const stack = await startStack(t, { gatewayEnv: { DASHBOARD_DIR: dir } })
  const get = (url: string) => stack.gateway.inject({ method: 'GET', url, headers: { accept: 'text/html' } })

  const proxied = await get('/mood/public')
  t.equal(proxied.statusCode, 200, 'a service path still reaches its service')
  t.match(proxied.json(), { identity: null })
  t.equal((await get('/mood/whoami')).statusCode, 401, 'and its answers are the service\'s')
  t.equal((await get('/auth/me')).statusCode, 401)
  t.equal((await get('/contact')).statusCode, 503, 'a service that is down still answers 503, not the page')
  t.equal((await get('/health')).json().status, 'ok')
  t.match((await get('/docs/json')).json(), { openapi: /^3/ })

  for (const url of ['/nope', '/api/v2/users', '/assets/missing-123.js', '/dashboardx', '/index.htm']) {
    const res = await get(url)
    t.equal(res.statusCode, 404, `${url} is not found`)
    t.match(res.json(), { statusCode: 404, code: 'GATEWAY_NOT_FOUND' }, 'as the API\'s JSON error')
  }
  const post = await stack.gateway.inject({ method: 'POST', url: '/dashboard', payload: {} })
  t.equal(post.statusCode, 404, 'the pages are read only')
})

t.test('without a build, the pages say how to make one and the API keeps working', async (t) => {
  const dir = await tempDir(t)
  const stack = await startStack(t, { gatewayEnv: { DASHBOARD_DIR: path.join(dir, 'dist') } })

  for (const page of ['/', '/dashboard/mood']) {
    const res = await stack.gateway.inject({ method: 'GET', url: page })
    t.equal(res.statusCode, 503)
    t.match(res.headers['content-type'], /^text\/html/)
    t.match(res.body, 'pnpm --filter @pulse/dashboard build', 'names the command that builds it')
    t.equal(res.headers['cache-control'], 'no-store', 'the explanation is not cached in place of the page')
  }
  t.equal((await stack.gateway.inject({ method: 'GET', url: '/health' })).statusCode, 200)
  t.equal((await stack.gateway.inject({ method: 'GET', url: '/mood/public' })).statusCode, 200)

  // A build made while the gateway runs is served without a restart.
  await writeBuild(path.join(dir, 'dist'))
  const res = await stack.gateway.inject({ method: 'GET', url: '/', headers: { 'accept-encoding': 'identity' } })
  t.equal(res.statusCode, 200)
  t.equal(res.body, INDEX)
  const asset = await stack.gateway.inject({ method: 'GET', url: '/assets/app-3f9a1c.js', headers: { 'accept-encoding': 'identity' } })
  t.equal(asset.statusCode, 200)
})
