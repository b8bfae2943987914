// Known-vulnerable production dependencies fail CI: `pnpm audit --prod --audit-level high`, read as
// JSON so that "the advisory service could not be asked" and "it reports a vulnerability" are told
// apart. Offline (no network, a registry mirror without the audit endpoint) the run says so and
// passes, because refusing every offline build would teach people to skip CI; a report of a high or
// critical advisory always fails. Exit code: 0 pass, 1 fail.
import { spawnSync } from 'node:child_process'

// Errors that mean nobody answered the question, as pnpm names them.
const UNREACHABLE = new Set([
  'ERR_PNPM_AUDIT_BAD_RESPONSE', 'ERR_PNPM_AUDIT_ENDPOINT_NOT_EXISTS', 'AUDIT_BAD_RESPONSE', 'AUDIT_ENDPOINT_NOT_EXISTS',
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'ERR_SOCKET_TIMEOUT',
  'FETCH_ERROR', 'ERR_PNPM_FETCH_ERROR', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'CERT_HAS_EXPIRED', 'SELF_SIGNED_CERT_IN_CHAIN'
])

const run = spawnSync('pnpm', ['audit', '--prod', '--audit-level', 'high', '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
let report
try {
  report = JSON.parse(run.stdout)
} catch {
  report = undefined
}

if (run.status === 0) {
  console.log('ci: audit: no known high or critical vulnerability in the production dependencies')
  process.exit(0)
}
if (report?.advisories !== undefined && Object.keys(report.advisories).length > 0) {
  console.log('ci: audit: known-vulnerable production dependencies (fix them, or upgrade what pulls them in):')
  for (const a of Object.values(report.advisories)) {
    console.log(`  ${a.severity} ${a.module_name} ${a.vulnerable_versions ?? ''}: ${a.title} (${a.url ?? 'no link'})`)
  }
  process.exit(1)
}
const code = report?.error?.code
if (code !== undefined && UNREACHABLE.has(code)) {
  console.log(`ci: audit: the advisory service is unreachable (${code}: ${report.error.message}); dependencies NOT audited`)
  process.exit(0)
}
console.log('ci: audit: pnpm audit failed in an unexpected way:')
console.log(run.stdout || '', run.stderr || '')
process.exit(1)
