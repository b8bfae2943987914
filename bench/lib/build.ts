// The benchmarks run the services as their images do: compiled (`node dist/server.js`, which loads
// the workspace packages' dist/ too, their `exports` resolving to dist/ without the `pulse-source`
// condition). This builds what a server needs before it starts, and skips the packages whose dist/
// is newer than their sources.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** `compiled` (default): dist/ under NODE_ENV=production, as the images run; `source`: TypeScript through tsx, as `pnpm start` does. */
export type RunMode = 'compiled' | 'source'

export function runMode (): RunMode {
  const mode = process.env.BENCH_BUILD ?? 'compiled'
  if (mode !== 'compiled' && mode !== 'source') throw new Error(`BENCH_BUILD must be "compiled" or "source", not "${mode}"`)
  return mode
}

interface Manifest { name: string, dependencies?: Record<string, string>, devDependencies?: Record<string, string> }

let workspace: Map<string, string> | undefined
/** Package name → folder, for the workspace's packages and services. */
function packagesByName (): Map<string, string> {
  if (workspace !== undefined) return workspace
  workspace = new Map()
  for (const group of ['packages', 'services']) {
    for (const entry of readdirSync(path.join(ROOT, group))) {
      const manifest = path.join(ROOT, group, entry, 'package.json')
      if (existsSync(manifest)) workspace.set((JSON.parse(readFileSync(manifest, 'utf8')) as Manifest).name, path.join(ROOT, group, entry))
    }
  }
  return workspace
}

/**
 * The folder and every workspace package it depends on at run time (`dependencies`, transitively),
 * dependencies first. Our own order rather than `pnpm --filter <name>... build`: that selection
 * takes devDependencies too, whose cycles (the testing package and the kits) leave pnpm's order
 * unreliable — a service could be compiled before the kit it imports.
 */
function withWorkspaceDependencies (folder: string, seen = new Set<string>(), order: string[] = []): string[] {
  if (seen.has(folder)) return order
  seen.add(folder)
  const manifest = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as Manifest
  // The testing package is the one development dependency a build needs: the ingest kit compiles
  // its test world (`@pulse/ingest-kit/testing`) against its types. It depends on no workspace package.
  const testing = manifest.devDependencies?.['@pulse/testing'] !== undefined ? { '@pulse/testing': 'workspace:*' } : {}
  for (const [name, version] of Object.entries({ ...testing, ...manifest.dependencies })) {
    const dependency = packagesByName().get(name)
    if (version.startsWith('workspace:') && dependency !== undefined) withWorkspaceDependencies(dependency, seen, order)
  }
  order.push(folder)
  return order
}

/** Newest (or oldest) modification time of the files under a folder; undefined when it has none. */
function mtimes (dir: string): number[] {
  if (!existsSync(dir)) return []
  return (readdirSync(dir, { recursive: true }) as string[]).flatMap((file) => {
    const stat = statSync(path.join(dir, file))
    return stat.isFile() ? [stat.mtimeMs] : []
  })
}

function upToDate (folder: string): boolean {
  const built = mtimes(path.join(folder, 'dist'))
  if (built.length === 0) return false
  const sources = [...mtimes(path.join(folder, 'src')), ...['package.json', 'tsconfig.build.json'].map((f) => statSync(path.join(folder, f)).mtimeMs)]
  return Math.max(...sources) <= Math.min(...built)
}

const built = new Set<string>()
/** Builds a package and the workspace packages it needs, dependencies first, skipping those that are up to date. */
export function ensureBuilt (folder: string): void {
  for (const dir of withWorkspaceDependencies(path.resolve(ROOT, folder))) {
    if (built.has(dir)) continue
    if (!upToDate(dir)) {
      console.error(`(building ${path.relative(ROOT, dir)}: its dist/ is older than its sources)`)
      execFileSync('pnpm', ['run', 'build'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] })
    }
    built.add(dir)
  }
}
