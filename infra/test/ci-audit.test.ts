import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import t from 'tap'
import { ROOT } from './helper.js'

// .ci/audit.mjs runs `pnpm audit` against the registry in npm_config_registry: here a local stand-in
// for the advisory service answers with a chosen report, or nothing listens at all.

interface Advisory { severity: 'low' | 'moderate' | 'high' | 'critical', module: string }

function report (advisories: Advisory[]) {
  const counts = { info: 0, low: 0, moderate: 0, high: 0, critical: 0 }
  for (const a of advisories) counts[a.severity] += 1
  return {
    actions: [],
    muted: [],
    advisories: Object.fromEntries(advisories.map((a, i) => [String(1000 + i), {
      id: 1000 + i,
      github_advisory_id: `GHSA-test-${i}`,
      cves: [],
      module_name: a.module,
      severity: a.severity,
      title: `${a.module} does something bad`,
      url: `https://example.test/advisories/${1000 + i}`,
      vulnerable_versions: '<99.0.0',
      patched_versions: '>=99.0.0',
      findings: [{ version: '1.0.0', paths: [`services__gateway>${a.module}`] }]
    }])),
    metadata: { vulnerabilities: counts, dependencies: 1, devDependencies: 0, optionalDependencies: 0, totalDependencies: 1 }
  }
}

async function advisoryService (t: { teardown: (fn: () => unknown) => void }, advisories: Advisory[]): Promise<string> {
  const server: Server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.method === 'POST' && req.url?.startsWith('/-/npm/v1/security/audits')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(report(advisories)))
      } else {
        res.writeHead(404).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}

/** A registry address where nothing listens: a port just released by a server of our own. */
async function nothingListening (): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}/`
}

function audit (registry: string): Promise<{ code: number | null, out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, '.ci', 'audit.mjs')], {
      cwd: ROOT,
      env: { ...process.env, npm_config_registry: registry, npm_config_fetch_retries: '0' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { out += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out }))
  })
}

t.test('a high or critical advisory in a production dependency fails the check and names the package', async (t) => {
  for (const severity of ['high', 'critical'] as const) {
    const { code, out } = await audit(await advisoryService(t, [{ severity, module: 'left-pad' }]))
    t.equal(code, 1, `${severity}: the check fails`)
    t.match(out, new RegExp(`${severity} left-pad`), `${severity}: the output names the advisory`)
  }
})

t.test('advisories below high do not fail the check', async (t) => {
  const { code, out } = await audit(await advisoryService(t, [{ severity: 'moderate', module: 'left-pad' }, { severity: 'low', module: 'is-odd' }]))
  t.equal(code, 0)
  t.match(out, /no known high or critical vulnerability/)
})

t.test('a clean report passes', async (t) => {
  const { code, out } = await audit(await advisoryService(t, []))
  t.equal(code, 0)
  t.match(out, /no known high or critical vulnerability/)
})

t.test('an unreachable advisory service is reported and does not fail the check', async (t) => {
  const { code, out } = await audit(await nothingListening())
  t.equal(code, 0)
  t.match(out, /advisory service is unreachable \(ECONNREFUSED/)
  t.match(out, /NOT audited/)
})

t.test('an advisory service that refuses the request counts as unreachable, not as a pass in silence', async (t) => {
  const server = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(405).end()) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const { code, out } = await audit(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
  t.equal(code, 0)
  t.match(out, /advisory service is unreachable \(ERR_PNPM_AUDIT_BAD_RESPONSE/)
})
