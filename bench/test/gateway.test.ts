// Smoke test of the `gateway` suite (the Pulse gateway compiled and from source, the Node peers, the
// floors) and of the `memory` suite: tiny settings, results written to a temporary file, checked for
// a table with sane non-zero numbers. Never a judgement of speed: the numbers of a shortened run on
// a busy machine mean nothing.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const results = path.join(mkdtempSync(path.join(tmpdir(), 'pulse-bench-smoke-')), 'RESULTS.md')

/**
 * The environment a bench run gets from a shell: tap's own (NODE_OPTIONS with its hooks, NODE_PATH,
 * TAP_*) would reach every server the suite starts and change what it loads and how much memory it takes.
 */
function benchEnv (): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => ['PATH', 'HOME', 'LANG', 'TMPDIR'].includes(name) || name.startsWith('BENCH_')))
}

/** Runs `pnpm bench <suite>` as the package script does, queued behind any other bench run (the suites listen on fixed ports). */
async function bench (suite: string): Promise<void> {
  const child = spawn('flock', ['/tmp/pulse-bench.lock', 'taskset', '-c', '1', process.execPath, '--conditions=pulse-source', '--import', 'tsx', 'run.ts', suite], {
    cwd: BENCH,
    env: { ...benchEnv(), BENCH_RESULTS: results, BENCH_DURATION_S: '0.5', BENCH_WARMUP_S: '0.3', BENCH_MEMORY_SETTLE_S: '3' },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`pnpm bench ${suite} exited with ${code}`)
}

/** The table rows of a block: cells of every `| … |` line below the header and its rule. */
function tableOf (name: string): string[][] {
  const text = readFileSync(results, 'utf8')
  const block = text.slice(text.indexOf(`<!-- bench:${name}:begin -->`), text.indexOf(`<!-- bench:${name}:end -->`))
  return block.split('\n').filter((line) => line.startsWith('| ')).slice(1).map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()))
}

t.test('the gateway suite measures Pulse, its peers and the floors', async (t) => {
  await bench('gateway')
  const rows = tableOf('gateway')
  const scenarios = rows.map((r) => r[0]!)
  for (const expected of ['directly', 'Pulse gateway, compiled', 'from source (tsx', 'bare Node proxy', '@fastify/http-proxy', 'fast-gateway', '@platformatic/composer', 'raw node:http']) {
    t.ok(scenarios.some((s) => s.includes(expected)), `a row for ${expected}`)
  }
  for (const row of rows.filter((r) => r[1] !== '–')) {
    const [scenario, rps, , , cpu, memory, errors] = row
    t.ok(Number(rps) > 0, `${scenario}: requests per second`)
    t.ok(Number.parseFloat(cpu!) > 0, `${scenario}: CPU per request`)
    t.match(memory, /\d+ → \d+/, `${scenario}: memory`)
    t.ok([...memory!.matchAll(/(\d+) → (\d+)/g)].every((m) => Number(m[1]) > 0 && Number(m[2]) > 0), `${scenario}: memory above 0`)
    t.equal(errors, '0 / 0', `${scenario}: every answer a 2xx`)
  }
  t.match(readFileSync(results, 'utf8'), /The proxy process alone, µs CPU per request: Pulse gateway [\d.]+, bare Node proxy [\d.]+, http-proxy [\d.]+, fast-gateway [\d.]+, platformatic-composer [\d.]+/)
})

t.test('the memory suite reports every service idle and loaded', async (t) => {
  await bench('memory')
  const rows = tableOf('memory')
  t.same(rows.map((r) => r[0]), ['gateway', 'auth', 'mood', 'contact', 'notify', 'twitch-ingest', 'twitter-ingest'])
  for (const [service, started, idle, loaded] of rows) {
    t.ok(Number(started) > 0 && Number(idle) > 0 && Number(loaded) > 0, `${service}: ${started} / ${idle} / ${loaded} MiB`)
  }
})
