import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureBuilt, runMode, type RunMode } from './build.js'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
/** Servers run on this core, the load generator on the other. */
export const SERVER_CORE = '0'

export interface Server {
  name: string
  child: ChildProcess
  pid: number
}

/** Starts a command pinned to the server core; resolves once `url` answers. */
export async function startPinned (name: string, command: string[], { cwd = ROOT, env = {}, url }: { cwd?: string, env?: Record<string, string>, url: string }): Promise<Server> {
  const child = spawn('taskset', ['-c', SERVER_CORE, ...command], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] })
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`)
    try {
      await fetch(url)
      return { name, child, pid: child.pid! }
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  child.kill('SIGKILL')
  throw new Error(`${name} did not answer at ${url}`)
}

/**
 * The command of a Pulse server given by its source (`services/mood/src/server.ts`): compiled
 * (`node services/mood/dist/server.js`, built first if out of date) unless `mode` (default:
 * BENCH_BUILD) is `source`, then through tsx as the development stack runs it (a bench server in
 * TypeScript outside a `src/` runs through tsx either way, against compiled or source packages). BENCH_PROFILE=<dir>
 * writes CPU profiles of it there.
 */
export function nodeServer (script: string, mode: RunMode = runMode()): string[] {
  const profile = process.env.BENCH_PROFILE !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []
  const compiled = /^(.+)\/src\/(.+)\.ts$/.exec(script)
  if (mode === 'source') return [process.execPath, ...profile, '--conditions=pulse-source', '--import', 'tsx', script]
  if (compiled === null) {
    // A bench server in TypeScript (servers/upstream.ts): tsx for its own file, the kit compiled.
    ensureBuilt('packages/service-kit')
    return [process.execPath, ...profile, '--import', 'tsx', script]
  }
  ensureBuilt(compiled[1]!)
  return [process.execPath, ...profile, `${compiled[1]}/dist/${compiled[2]}.js`]
}

const TICKS_PER_SECOND = 100 // getconf CLK_TCK on Linux

/** CPU time (user + system) a process has used so far, in microseconds. */
export function cpuMicros (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return (utime + stime) * (1_000_000 / TICKS_PER_SECOND)
}

/** Resident memory of a process in KiB; 0 once it is gone. */
export function rssKiB (pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  } catch {
    return 0
  }
}

/** Resident memory of a process in MiB. */
export function rssMiB (pid: number): number {
  return Math.round(rssKiB(pid) / 1024)
}

/**
 * A server of a scenario, as the tables name it; several pids for one server (nginx's master and
 * worker) are added up. `shared`: a system server other work uses too (Redis, Postgres) — its CPU
 * counts, its memory is not reported. `cpu: false`: running for the scenario but not on the
 * measured path (its memory is reported, its CPU not counted).
 */
export interface Proc {
  name: string
  pids: number[]
  shared?: boolean
  cpu?: boolean
}

export interface Memory {
  name: string
  idleMiB: number
  peakMiB: number
}

/**
 * RSS of every non-shared server: `idle` when created (call it right before the measured load),
 * the peak of samples every `intervalMs` until `stop`.
 */
export class MemorySampler {
  private readonly procs: Proc[]
  private readonly idle: number[]
  private readonly peak: number[]
  private readonly timer: NodeJS.Timeout

  constructor (procs: Proc[], intervalMs = 200) {
    this.procs = procs.filter((p) => p.shared !== true)
    this.idle = this.procs.map(rssOf)
    this.peak = [...this.idle]
    // unref: a run that fails half-way must still exit
    this.timer = setInterval(() => this.sample(), intervalMs).unref()
  }

  private sample (): void {
    this.procs.forEach((p, i) => { this.peak[i] = Math.max(this.peak[i]!, rssOf(p)) })
  }

  stop (): Memory[] {
    clearInterval(this.timer)
    this.sample()
    return this.procs.map((p, i) => ({ name: p.name, idleMiB: Math.round(this.idle[i]! / 1024), peakMiB: Math.round(this.peak[i]! / 1024) }))
  }
}

function rssOf (proc: Proc): number {
  return proc.pids.reduce((sum, pid) => sum + rssKiB(pid), 0)
}

/** `gateway 70 → 82, upstream 60 → 61` */
export function memoryText (memory: Memory[]): string {
  return memory.length === 0 ? '–' : memory.map((m) => `${m.name} ${m.idleMiB} → ${m.peakMiB}`).join(', ')
}

/** Direct children of a process (nginx's workers). */
export function childrenOf (parent: number): number[] {
  const out: number[] = []
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) out.push(Number(entry))
    } catch { /* gone */ }
  }
  return out
}

export async function stopAll (servers: Server[]): Promise<void> {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
    if (s.child.exitCode !== null) return resolve()
    s.child.once('exit', () => resolve())
    s.child.kill('SIGTERM')
    setTimeout(() => s.child.kill('SIGKILL'), 5000).unref()
  })))
}

/** Pids of processes whose command line matches (for servers we did not start, e.g. redis-server). */
export function pidsOf (pattern: RegExp): number[] {
  const out: number[] = []
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (pattern.test(cmd)) out.push(Number(entry))
    } catch { /* gone */ }
  }
  return out
}

function readdirSafe (dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}
