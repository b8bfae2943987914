import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// A smoke test of `pnpm bench history`: 20 channels and a few reads, into a temporary results file.
// It checks that the run works and writes a sane table; it never judges the numbers.
const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

t.test('the history suite runs and writes its block', async (t) => {
  // The tests' Postgres (CI's service), with the smoke test's own database.
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? process.env.PULSE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const results = path.join(mkdtempSync(path.join(os.tmpdir(), 'bench-history-')), 'RESULTS.md')
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--conditions=pulse-source', '--import', 'tsx', 'run.ts', 'history'], {
      cwd: BENCH,
      env: { ...process.env, BENCH_RESULTS: results, BENCH_HISTORY_CHANNELS: '20', BENCH_HISTORY_READS: '20', BENCH_HISTORY_RAW_SAMPLE: '5', BENCH_HISTORY_DATABASE: `pulse_bench_history_smoke_${process.pid}`, BENCH_DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'ignore', 'inherit']
    })
    child.on('exit', resolve)
  })
  t.equal(code, 0, 'the run succeeds')
  const text = readFileSync(results, 'utf8')
  const block = text.slice(text.indexOf('<!-- bench:history:begin -->'), text.indexOf('<!-- bench:history:end -->'))
  t.match(block, /Shortened run/, 'marked as a shortened run')
  const perYear = /Storage per channel-year: \*\*([\d.]+) KiB\*\* as the retention keeps it, against ([\d.]+) KiB fully raw/.exec(block)
  t.ok(perYear !== null && Number(perYear[1]) > 0 && Number(perYear[2]) > 0, 'storage per channel-year, both ways')
  for (const table of ['snapshots', 'snapshots_hourly', 'snapshots_daily']) {
    const row = new RegExp(`\\| ${table} \\| ([\\d,]+) \\| ([\\d.]+) MiB`).exec(block)
    t.ok(row !== null && Number(row[1]!.replaceAll(',', '')) > 0 && Number(row[2]) > 0, `${table}: rows and size`)
  }
  const reads = [...block.matchAll(/^\| (history, [^|]+|overview [^|]+) \| [^|]+ \| ([\d.]+) \| ([\d.]+) \|/gm)]
  t.equal(reads.length, 6, 'six kinds of reads')
  t.ok(reads.every((r) => Number(r[2]) > 0 && Number(r[3]) >= Number(r[2])), 'p50 and p99 above 0, p99 ≥ p50')
  t.equal([...block.matchAll(/^\| [^|]+ \| \d+ \| \d+ hourly and \d+ daily rows written/gm)].length, 3, 'three job runs timed')
})
