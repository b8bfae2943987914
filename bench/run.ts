// Runs the benchmarks and prints a Markdown report (bench/RESULTS.md keeps the one we stand by).
// Usage: pnpm bench [gateway|services|twitch] — servers on core 0, this load generator pinned to core 1.
import { benchGateway, versions, type Row } from './gateway.js'
import { benchServices } from './services.js'
import { benchTwitchDrain, twitchDrainReport } from './twitch-drain.js'

function table (rows: Row[]): string {
  const lines = ['| scenario | req/s | p50 ms | p99 ms | server CPU µs/req | errors / non-2xx |', '|---|---:|---:|---:|---:|---:|']
  for (const { scenario, result, note } of rows) {
    if (result === null) lines.push(`| ${scenario} | – | – | – | – | ${note ?? ''} |`)
    else lines.push(`| ${scenario} | ${result.requestsPerSecond} | ${result.p50Ms} | ${result.p99Ms} | ${result.cpuMicrosPerRequest} (${result.cpuMicrosPerRequestByProcess.join(' + ')}) | ${result.errors} / ${result.non2xx} |`)
  }
  return lines.join('\n')
}

const which = process.argv[2] ?? 'all'
const v = versions()
console.log(`machine: ${v.cores} cores, ${v.cpu}; node ${v.node}; ${v.nginx}; ${v.redis}`)
if (which === 'gateway' || which === 'all') {
  const rows = await benchGateway()
  console.log(table(rows))
  const direct = rows[0]?.result
  const gateway = rows[1]?.result
  if (direct != null && gateway != null) {
    console.log(`\nPulse hop: +${Math.round((gateway.cpuMicrosPerRequest - direct.cpuMicrosPerRequest) * 10) / 10} µs server CPU per request over direct; p99/p50 = ${Math.round((gateway.p99Ms / Math.max(gateway.p50Ms, 0.001)) * 10) / 10}`)
  }
}

if (which === 'services' || which === 'all') {
  const rows = await benchServices()
  console.log('\n| scenario (through the gateway) | connections | req/s | p50 ms | p99 ms | server CPU µs/req (gateway + service) | errors / non-2xx |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const { scenario, connections, result, note } of rows) {
    console.log(`| ${scenario} | ${connections} | ${result.requestsPerSecond} | ${result.p50Ms} | ${result.p99Ms} | ${result.cpuMicrosPerRequest} (${result.cpuMicrosPerRequestByProcess.join(' + ')}) | ${result.errors} / ${result.non2xx} |`)
    if (note !== undefined) console.log(`\n${scenario}: ${note}`)
  }
}

if (which === 'twitch' || which === 'all') {
  console.log(`\n${twitchDrainReport(await benchTwitchDrain())}`)
}
