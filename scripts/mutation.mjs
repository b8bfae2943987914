// Mutation testing of the front-door and data-loss modules: StrykerJS with its command runner over
// tap, one narrow run per module (only the test files that cover it), then the score of each module
// is written into docs/testing.md. Slow (every mutant reruns the module's tests): not part of
// `pnpm test` or CI. `pnpm mutation` runs every module; `pnpm mutation outbox-relay mood-streaks`
// runs those named, keeping the other rows of the table as they were.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ROOT } from './stack.mjs'

/**
 * Each module in parts: files to mutate and the focused test files that exercise them directly
 * (paths from the root; each runs in its own package's directory). Every mutant reruns its part's
 * tests only, and they start only what the module uses, so a run takes seconds.
 */
export const MODULES = [
  {
    id: 'gateway-identity',
    name: 'gateway identity (session → signed assertion)',
    parts: [
      { mutate: ['packages/service-kit/src/identity.ts'], tests: ['packages/service-kit/test/identity.test.ts'] },
      { mutate: ['services/gateway/src/plugins/sessions.ts'], tests: ['services/gateway/test/session-resolver.test.ts'] }
    ]
  },
  { id: 'gateway-proxy', name: 'gateway proxy', parts: [{ mutate: ['services/gateway/src/routes/proxy.ts'], tests: ['services/gateway/test/proxy-routes.test.ts'] }] },
  { id: 'auth-sessions', name: 'auth sessions', parts: [{ mutate: ['services/auth/src/sessions.ts', 'services/auth/src/session-store.ts'], tests: ['services/auth/test/session-store.test.ts'] }] },
  { id: 'auth-throttle', name: 'auth login throttle', parts: [{ mutate: ['services/auth/src/login-throttle.ts'], tests: ['services/auth/test/attempt-budgets.test.ts'] }] },
  { id: 'auth-return-to', name: 'auth return-to', parts: [{ mutate: ['services/auth/src/oauth/return-to.ts'], tests: ['services/auth/test/return-to.test.ts'] }] },
  { id: 'outbox-relay', name: 'outbox relay', parts: [{ mutate: ['packages/service-kit/src/outbox/outbox.ts'], tests: ['packages/service-kit/test/outbox-relay.test.ts'] }] },
  { id: 'mood-streaks', name: 'mood streak model', parts: [{ mutate: ['services/mood/src/repositories/streaks.ts'], tests: ['services/mood/test/streak-model.test.ts'] }] }
]

/** Every file a module mutates. */
const filesOf = (module) => module.parts.flatMap((part) => part.mutate)

/** What tap passes to node for every test file (the `tap.node-arg` of each package.json). */
const NODE_ARGS = '--import=tsx --conditions=pulse-source'

const DOC = path.join(ROOT, 'docs/testing.md')
const START = '<!-- mutation-scores:start -->'
const END = '<!-- mutation-scores:end -->'
const REPORTS = path.join(ROOT, 'reports/mutation')

/** Killed (or timed out) over every mutant that ran; the report format is Stryker's JSON schema. */
export function scoreOf (report) {
  const counts = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0 }
  const survivors = []
  for (const [file, { mutants }] of Object.entries(report.files)) {
    for (const m of mutants) {
      if (m.status in counts) counts[m.status]++
      if (m.status === 'Survived' || m.status === 'NoCoverage') survivors.push(`${path.relative(ROOT, path.resolve(ROOT, file))}:${m.location.start.line} ${m.mutatorName}${m.replacement === undefined ? '' : ` → ${m.replacement.replace(/\s+/g, ' ').slice(0, 60)}`}`)
    }
  }
  const detected = counts.Killed + counts.Timeout
  const total = detected + counts.Survived + counts.NoCoverage
  return { ...counts, total, score: total === 0 ? null : (100 * detected) / total, survivors }
}

function runModule (module) {
  mkdirSync(REPORTS, { recursive: true })
  const files = {}
  module.parts.forEach((part, index) => {
    const reportFile = path.join(REPORTS, `${module.id}.${index + 1}.json`)
    const config = {
      testRunner: 'command',
      // The part's own focused test files, each run by node itself: a tap test file is a plain
      // script that exits non-zero when an assertion fails, and running it without the tap CLI spares
      // about 8 s of start-up per mutant.
      commandRunner: { command: part.tests.map((file) => { const [dir, test] = file.split('/test/'); return `(cd ${dir} && node ${NODE_ARGS} test/${test})` }).join(' && ') },
      mutate: part.mutate,
      // Mutating in place: a copy of a pnpm workspace would resolve the workspace packages back here.
      inPlace: true,
      // Only the mutated files are touched (in place, a comment added to every source would be restored only at the end).
      disableTypeChecks: false,
      // The command runner knows neither tests nor coverage: `coverageAnalysis` and `ignoreStatic`
      // need a runner that reports them, and incremental mode could not tell that a test was added
      // (it would keep a survivor a new test kills). Every run is complete.
      coverageAnalysis: 'off',
      incremental: false,
      // One test runner by default (a shared machine); MUTATION_CONCURRENCY=2 runs two mutants at once
      // (the focused tests are parallel-safe, and mutants are switched by environment, not by file).
      concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 1),
      // Added to 1.5 × the dry run's time: a mutant that hangs (a loop that never ends) costs no more than this.
      timeoutMS: 10_000,
      reporters: ['json', 'clear-text', 'progress'],
      jsonReporter: { fileName: path.relative(ROOT, reportFile) },
      clearTextReporter: { reportMutants: false, reportScoreTable: true },
      tempDirName: `.stryker-tmp/${module.id}-${index + 1}`,
      cleanTempDir: 'always'
    }
    const configFile = path.join(REPORTS, `${module.id}.${index + 1}.stryker.json`)
    writeFileSync(configFile, JSON.stringify(config, null, 2))
    const run = spawnSync(path.join(ROOT, 'node_modules/.bin/stryker'), ['run', configFile], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } })
    if (run.status !== 0) throw new Error(`stryker failed for ${module.id}, part ${index + 1} (exit ${run.status})`)
    Object.assign(files, JSON.parse(readFileSync(reportFile, 'utf8')).files)
  })
  return scoreOf({ files })
}

/** Rewrites the table between the markers in docs/testing.md, keeping rows of modules not rerun. */
export function writeScores (doc, results, date) {
  const start = doc.indexOf(START)
  const end = doc.indexOf(END)
  if (start < 0 || end < start) throw new Error(`docs/testing.md has no ${START} … ${END} block`)
  const previous = new Map()
  for (const line of doc.slice(start, end).split('\n')) {
    const id = /^\| `([a-z-]+)` \|/.exec(line)?.[1]
    if (id !== undefined) previous.set(id, line)
  }
  const rows = MODULES.map((m) => {
    const r = results.get(m.id)
    if (r === undefined) return previous.get(m.id) ?? `| \`${m.id}\` | ${m.name} | ${filesOf(m).map((f) => `\`${f}\``).join(', ')} | not run yet | | | |`
    const score = r.score === null ? 'no mutants' : `${r.score.toFixed(1)} %`
    return `| \`${m.id}\` | ${m.name} | ${filesOf(m).map((f) => `\`${f}\``).join(', ')} | ${score} | ${r.Killed + r.Timeout} / ${r.total} | ${r.Survived + r.NoCoverage} | ${date} |`
  })
  const table = ['| module | what | files | score | killed / mutants | survived | run |', '|---|---|---|---|---|---|---|', ...rows].join('\n')
  return `${doc.slice(0, start + START.length)}\n${table}\n${doc.slice(end)}`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const wanted = process.argv.slice(2)
  const unknown = wanted.filter((id) => !MODULES.some((m) => m.id === id))
  if (unknown.length > 0) {
    console.error(`unknown module ${unknown.join(', ')}; known: ${MODULES.map((m) => m.id).join(', ')}`)
    process.exit(2)
  }
  const results = new Map()
  for (const module of MODULES.filter((m) => wanted.length === 0 || wanted.includes(m.id))) {
    console.log(`\nmutation: ${module.id} (${filesOf(module).join(', ')})`)
    const result = runModule(module)
    results.set(module.id, result)
    writeFileSync(path.join(REPORTS, `${module.id}.survivors.txt`), result.survivors.join('\n') + '\n')
    console.log(`mutation: ${module.id}: ${result.score?.toFixed(1) ?? '-'} % (${result.Survived + result.NoCoverage} survived; reports/mutation/${module.id}.survivors.txt)`)
    // Written after every module, so a long run interrupted later keeps what it measured.
    writeFileSync(DOC, writeScores(readFileSync(DOC, 'utf8'), new Map([[module.id, result]]), new Date().toISOString().slice(0, 10)))
  }
}
