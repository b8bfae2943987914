// Runs the benchmarks, prints a Markdown report and writes it into bench/RESULTS.md: the machine
// block and one block per suite run (between markers; the text around them is kept).
// Usage: pnpm bench [gateway|services|twitch|observability|memory|history|scheduler|all] — servers on core 0, this load generator pinned to core 1.
// BENCH_DURATION_S (default 10) shortens the measured loads, BENCH_TWITCH_USERS the drain (see README.md).
import os from 'node:os'
import { GATEWAY_CONNECTIONS, PEERS, benchGateway, type Row } from './gateway.js'
import { WARMUP_S, type LoadResult } from './lib/load.js'
import { machine, machineLine, machineMarkdown } from './lib/machine.js'
import { memoryText } from './lib/processes.js'
import { IDLE_TARGET_MIB, MEMORY_CONNECTIONS, MEMORY_SETTLE_S, benchMemory } from './memory.js'
import { RESULTS_FILE, writeBlocks, type Block } from './lib/results.js'
import { METRICS_BUDGET, OBSERVABILITY_CONNECTIONS, OBSERVABILITY_ROUNDS, benchObservability, medianOf } from './observability.js'
import { HISTORY_CHANNELS, HISTORY_READS, benchHistory, historyReport } from './history.js'
import { DEFAULT_SCHEDULER_SIZES, SCHEDULER_SIZES, benchScheduler, schedulerReport } from './scheduler.js'
import { CONTACT_REQUESTS, benchServices } from './services.js'
import { TWITCH_RUNS, TWITCH_USERS, benchTwitchDrain, twitchDrainReport } from './twitch-drain.js'

const SUITES = ['gateway', 'services', 'twitch', 'observability', 'memory', 'history', 'scheduler'] as const
type Suite = typeof SUITES[number]
const DEFAULT_DURATION_S = 10
const DEFAULT_TWITCH_USERS = 1000
const DEFAULT_HISTORY_CHANNELS = 10_000

const which = process.argv[2] ?? 'all'
if (which !== 'all' && !(SUITES as readonly string[]).includes(which)) {
  console.error(`usage: pnpm bench [${SUITES.join('|')}|all] (not "${which}")`)
  process.exit(2)
}
const durationSeconds = Number(process.env.BENCH_DURATION_S ?? DEFAULT_DURATION_S)
if (!(durationSeconds > 0)) throw new Error(`BENCH_DURATION_S must be a number of seconds above 0, not "${process.env.BENCH_DURATION_S}"`)
if (!Number.isInteger(TWITCH_USERS) || TWITCH_USERS < 1) throw new Error(`BENCH_TWITCH_USERS must be a whole number above 0, not "${process.env.BENCH_TWITCH_USERS}"`)

/** The command as typed, with the settings that change what is measured. */
const command = [
  ...['BENCH_DURATION_S', 'BENCH_WARMUP_S', 'BENCH_MEMORY_SETTLE_S', 'BENCH_BUILD', 'BENCH_TWITCH_USERS', 'BENCH_TWITCH_RUNS', 'BENCH_TWITCH_LATENCY_MS', 'BENCH_OBSERVABILITY_ROUNDS', 'BENCH_HISTORY_CHANNELS', 'BENCH_HISTORY_READS', 'BENCH_HISTORY_RAW_SAMPLE', 'BENCH_SCHEDULER_SIZES', 'BENCH_QUIET_MAX_S'].filter((name) => process.env[name] !== undefined).map((name) => `${name}=${process.env[name]}`),
  ...(process.env.BENCH_PROFILE !== undefined ? ['BENCH_PROFILE=<dir>'] : []),
  'pnpm bench',
  ...(process.argv[2] !== undefined ? [process.argv[2]] : [])
].join(' ')

const m = await machine()
const stamp = () => `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`
const machineBlock = (): Block => ({ name: 'machine', body: `Machine and versions of the latest run (${stamp()}, \`${command}\`):\n\n${machineMarkdown(m)}` })
console.log(machineMarkdown(m))

/** The first line of a suite's block: when, how, on what, and how busy the machine was. */
function runLine (what: string, shortened: boolean): string {
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ')
  return `${shortened ? '**Shortened run (a check of the harness, not a result).** ' : ''}Run ${stamp()} with \`${command}\` on ${machineLine(m)} ` +
    `(load average ${load} at the start${process.env.BENCH_PROFILE !== undefined ? '; CPU profiles written, which slows the servers' : ''}): ${what}.`
}

const round = (x: number) => Math.round(x * 10) / 10
const cpuText = (r: LoadResult) => `${r.cpuMicrosPerRequest} (${r.cpuByProcess.map((p) => `${p.name} ${p.micros}`).join(' + ')})`

async function gatewayBlock (): Promise<string> {
  const head = runLine(`${GATEWAY_CONNECTIONS} connections, ${WARMUP_S} s warm-up then ${durationSeconds} s measured per row; Pulse's servers compiled (\`node dist/server.js\`, NODE_ENV=production) unless the row says otherwise`, durationSeconds !== DEFAULT_DURATION_S || process.env.BENCH_WARMUP_S !== undefined)
  const rows: Row[] = await benchGateway({ durationSeconds })
  const lines = [head, '', '| scenario | req/s | p50 ms | p99 ms | server CPU µs/req | memory MiB idle → load | errors / non-2xx |', '|---|---:|---:|---:|---:|---|---:|']
  for (const { scenario, result, note } of rows) {
    if (result === null) lines.push(`| ${scenario} | – | – | – | – | – | ${note ?? ''} |`)
    else lines.push(`| ${scenario} | ${result.requestsPerSecond} | ${result.p50Ms} | ${result.p99Ms} | ${cpuText(result)} | ${memoryText(result.memory)} | ${result.errors} / ${result.non2xx} |`)
  }
  const by = (key: string) => rows.find((r) => r.key === key)?.result ?? null
  const [direct, gateway, gatewaySource, nginx, nodeProxy] = ['direct', 'gateway', 'gateway-source', 'nginx', 'node-proxy'].map(by)
  if (direct != null && gateway != null) {
    const hop = (r: LoadResult) => round(r.cpuMicrosPerRequest - direct.cpuMicrosPerRequest)
    const peers = PEERS.flatMap((p) => { const r = by(p.key); return r == null ? [] : [{ key: p.key, result: r }] })
    lines.push('', `Pulse hop: +${hop(gateway)} µs server CPU per request over calling the upstream directly` +
      `${gatewaySource != null ? ` (from source: +${hop(gatewaySource)} µs)` : ''}` +
      `${nginx != null ? ` (nginx's hop: +${hop(nginx)} µs)` : ''}${nodeProxy != null ? ` (a bare Node proxy's hop: +${hop(nodeProxy)} µs)` : ''}` +
      `${peers.map((p) => ` (${p.key}'s hop: +${hop(p.result)} µs)`).join('')}; its p99 is ${round(gateway.p99Ms / Math.max(gateway.p50Ms, 0.001))}× its p50.`)
    // The proxy's own process, the upstream left out: what the targets compare.
    const own = (r: LoadResult) => r.cpuByProcess[0]!.micros
    if (nodeProxy != null) {
      const ratio = Math.round(own(gateway) / own(nodeProxy) * 100) / 100
      const above = peers.filter((p) => own(gateway) >= own(p.result)).map((p) => p.key)
      lines.push('', `The proxy process alone, µs CPU per request: Pulse gateway ${own(gateway)}, bare Node proxy ${own(nodeProxy)}` +
        `${peers.map((p) => `, ${p.key} ${own(p.result)}`).join('')}. Pulse is ${ratio}× the bare Node proxy (target ≤ 1.3×: ${ratio <= 1.3 ? 'met' : 'NOT MET'}); ` +
        `${above.length === 0 ? 'below every Node peer (target met)' : `NOT below ${above.join(', ')}`}; p99 ≤ 3× p50: ${gateway.p99Ms <= 3 * Math.max(gateway.p50Ms, 1) ? 'met' : 'NOT MET'}.`)
    }
  }
  return lines.join('\n')
}

async function servicesBlock (): Promise<string> {
  const head = runLine(`2 s warm-up then ${durationSeconds} s measured per row, POST /contact a fixed ${CONTACT_REQUESTS.toLocaleString('en')} requests`, durationSeconds !== DEFAULT_DURATION_S)
  const rows = await benchServices({ durationSeconds })
  const lines = [head, '', '| scenario (through the gateway) | connections | req/s | p50 ms | p99 ms | server CPU µs/req | memory MiB idle → load | errors / non-2xx |', '|---|---:|---:|---:|---:|---:|---|---:|']
  const notes: string[] = []
  for (const { scenario, connections, result, note } of rows) {
    lines.push(`| ${scenario} | ${connections} | ${result.requestsPerSecond} | ${result.p50Ms} | ${result.p99Ms} | ${cpuText(result)} | ${memoryText(result.memory)} | ${result.errors} / ${result.non2xx} |`)
    if (note !== undefined) notes.push(`- ${scenario}: ${note}.`)
  }
  if (notes.length > 0) lines.push('', ...notes)
  return lines.join('\n')
}

async function twitchBlock (): Promise<string> {
  const head = runLine(`${TWITCH_USERS} users, runs ${TWITCH_RUNS}`, TWITCH_USERS !== DEFAULT_TWITCH_USERS)
  return `${head}\n\n${twitchDrainReport(await benchTwitchDrain())}`
}

async function observabilityBlock (): Promise<string> {
  const head = runLine(`GET /mood through the gateway, ${OBSERVABILITY_CONNECTIONS} connections, four configurations measured in turns for ${OBSERVABILITY_ROUNDS} rounds ` +
    `(order rotated each round), 2 s warm-up then ${durationSeconds} s measured per turn; medians of the rounds`, durationSeconds !== DEFAULT_DURATION_S || OBSERVABILITY_ROUNDS < 3)
  const { results, collector } = await benchObservability({ durationSeconds })
  const off = results[0]!
  const cpu = (r: typeof off) => medianOf(r.rounds, (x) => x.cpuMicrosPerRequest)
  const part = (r: typeof off, name: string) => medianOf(r.rounds, (x) => x.cpuByProcess.find((p) => p.name === name)?.micros ?? 0)
  const lines = [head, '', '| configuration | req/s | p50 ms | p99 ms | server CPU µs/req (gateway + mood) | vs. all off | CPU per round | what it did |', '|---|---:|---:|---:|---:|---:|---|---|']
  for (const r of results) {
    const delta = (cpu(r) / cpu(off) - 1) * 100
    lines.push(`| ${r.configuration.name} | ${Math.round(medianOf(r.rounds, (x) => x.requestsPerSecond))} | ${medianOf(r.rounds, (x) => x.p50Ms)} | ${medianOf(r.rounds, (x) => x.p99Ms)} | ` +
      `${round(cpu(r))} (${round(part(r, 'gateway'))} + ${round(part(r, 'mood'))}) | ${r === off ? '–' : `${delta >= 0 ? '+' : ''}${round(delta)} %`} | ${r.rounds.map((x) => x.cpuMicrosPerRequest).join(', ')} | ${r.configuration.metrics ? r.check : '–'} |`)
  }
  const metrics = results[1]!
  const overhead = cpu(metrics) / cpu(off) - 1
  lines.push('', `Metrics add ${round(overhead * 100)} % server CPU per request (budget ${METRICS_BUDGET * 100} %): ${overhead <= METRICS_BUDGET ? 'within budget' : 'OVER BUDGET'}; ${collector}.`)
  return lines.join('\n')
}

async function historyBlock (): Promise<string> {
  const head = runLine(`${HISTORY_CHANNELS.toLocaleString('en')} channels with a year of snapshots every 15 minutes, as the retention keeps them (raw 30 days, hourly 90, daily the rest), ` +
    `${HISTORY_READS} reads per row`, HISTORY_CHANNELS !== DEFAULT_HISTORY_CHANNELS || HISTORY_READS < 1000)
  return `${head}\n\n${historyReport(await benchHistory())}`
}

async function memoryBlock (): Promise<string> {
  const head = runLine(`the seven services compiled under NODE_ENV=production side by side; idle: ${MEMORY_SETTLE_S} s after start-up without requests; ` +
    `loaded: the peak while each is loaded through the gateway (${MEMORY_CONNECTIONS} connections, ${WARMUP_S} s warm-up then ${durationSeconds} s)`,
  durationSeconds !== DEFAULT_DURATION_S || MEMORY_SETTLE_S < 40 || process.env.BENCH_WARMUP_S !== undefined)
  const rows = await benchMemory({ durationSeconds })
  const lines = [head, '', '| service | RSS MiB 3 s after start | idle | loaded | load |', '|---|---:|---:|---:|---|']
  for (const r of rows) lines.push(`| ${r.service} | ${r.startedMiB} | ${r.idleMiB} | ${r.loadedMiB} | ${r.load} |`)
  const over = rows.filter((r) => r.idleMiB > IDLE_TARGET_MIB)
  lines.push('', `Idle target ≤ ${IDLE_TARGET_MIB} MiB: ${over.length === 0 ? 'met by every service' : `NOT MET by ${over.map((r) => `${r.service} (${r.idleMiB})`).join(', ')}`}.`)
  return lines.join('\n')
}

async function schedulerBlock (): Promise<string> {
  if (SCHEDULER_SIZES.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`BENCH_SCHEDULER_SIZES must be whole numbers above 0, not "${process.env.BENCH_SCHEDULER_SIZES}"`)
  const shortened = Math.max(...SCHEDULER_SIZES) < Math.max(...DEFAULT_SCHEDULER_SIZES)
  const head = runLine(`${SCHEDULER_SIZES.map((n) => n.toLocaleString('en')).join(' and ')} tracked channels`, shortened)
  return `${head}\n\n${schedulerReport(await benchScheduler())}`
}

const suites: Record<Suite, { heading: string, title: string, run: () => Promise<string> }> = {
  gateway: { heading: '## The gateway hop', title: '## The gateway hop (issue: accounts, sessions and the gateway)', run: gatewayBlock },
  services: { heading: '## Mood and contact', title: '## Mood and contact through the gateway (issues: mood, contact)', run: servicesBlock },
  twitch: { heading: '## Twitch refresh drain', title: '## Twitch refresh drain (issue 7: Twitch and X metrics)', run: twitchBlock },
  observability: { heading: '## Metrics and tracing', title: '## Metrics and tracing (issue: observability)', run: observabilityBlock },
  memory: { heading: '## Memory', title: '## Memory of the services (issue: speed at scale)', run: memoryBlock },
  history: { heading: '## History over years', title: '## History over years (retention: roll-ups and partitions)', run: historyBlock },
  scheduler: { heading: '## Refresh scheduler', title: '## Refresh scheduler at 100,000 channels', run: schedulerBlock }
}

// Each suite's block is written as soon as it is measured: a later suite failing keeps the earlier ones.
for (const name of SUITES) {
  if (which !== 'all' && which !== name) continue
  const suite = suites[name]
  const body = await suite.run()
  console.log(`\n${body}`)
  writeBlocks([machineBlock(), { name, heading: suite.heading, title: suite.title, body }])
  console.log(`\n(${name}: written to ${RESULTS_FILE})`)
}
