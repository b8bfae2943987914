// Runs one bench suite with tiny settings, as `pnpm bench <suite>` would, writing to a temporary
// results file: a check that the harness works, never a measurement (no speed is asserted).
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { testInfra } from '@pulse/testing'

const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/**
 * The tests' services (the PULSE_TEST_* servers, local ones, or the containers the test kit starts),
 * as the bench's settings: the bench database next to the test database.
 */
async function infraEnv (): Promise<Record<string, string>> {
  const infra = await testInfra()
  const url = new URL(infra.databaseUrl)
  url.pathname = '/pulse_bench'
  return { BENCH_DATABASE_URL: url.toString(), NATS_URL: infra.natsUrl, REDIS_URL: infra.redisUrl }
}

/** flock's exit status when the lock stayed taken. */
const LOCK_BUSY = 75
/** How long a smoke test waits for a benchmark someone else is running. */
const LOCK_WAIT_S = 45

/**
 * Runs the suite and answers the body of its block in the results file. Behind the lock every
 * bench run takes (bench/README.md), so that it neither disturbs nor is disturbed by a real run:
 * `busy` when another run held it for longer than LOCK_WAIT_S.
 */
export async function runSuite (suite: string, settings: Record<string, string>): Promise<{ block: string, output: string } | 'busy'> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pulse-bench-smoke-'))
  const results = path.join(dir, 'RESULTS.md')
  try {
    const command = ['node', '--conditions=pulse-source', '--import', 'tsx', 'run.ts', suite]
    const [file, ...args] = existsSync('/usr/bin/flock') ? ['flock', '-w', String(LOCK_WAIT_S), '-E', String(LOCK_BUSY), '/tmp/pulse-bench.lock', ...command] : command
    const child = spawn(file!, args, { cwd: BENCH, env: { ...process.env, ...await infraEnv(), ...settings, BENCH_RESULTS: results }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => { output += d.toString() })
    child.stderr.on('data', (d: Buffer) => { output += d.toString() })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    if (code === LOCK_BUSY) return 'busy'
    if (code !== 0) throw new Error(`pnpm bench ${suite} exited with ${code}:\n${output}`)
    const text = readFileSync(results, 'utf8')
    const match = new RegExp(`<!-- bench:${suite}:begin -->\\n([\\s\\S]*?)\\n<!-- bench:${suite}:end -->`).exec(text)
    if (match === null) throw new Error(`no ${suite} block in the results file:\n${text}`)
    return { block: match[1]!, output }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The rows of the first Markdown table of a block, as cells (header and separator left out). */
export function tableRows (block: string): string[][] {
  const lines = block.split('\n')
  const start = lines.findIndex((l) => l.startsWith('|'))
  const rows: string[][] = []
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(lines[i]!.split('|').slice(1, -1).map((c) => c.trim()))
  return rows
}

/** The first number of a cell ("1,000 (990)" → 1000). */
export const numberOf = (cell: string): number => Number(/[\d,]+(\.\d+)?/.exec(cell)?.[0]?.replace(/,/g, '') ?? NaN)
