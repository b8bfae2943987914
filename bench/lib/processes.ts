import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

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

/** A server started from source; BENCH_PROFILE=<dir> writes CPU profiles of it there. */
export function nodeServer (script: string): string[] {
  const profile = process.env.BENCH_PROFILE !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []
  return [process.execPath, ...profile, '--conditions=pulse-source', '--import', 'tsx', script]
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

/** Resident memory of a process in MiB. */
export function rssMiB (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return Math.round(kb / 1024)
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
