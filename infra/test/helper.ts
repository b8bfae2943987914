import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseAllDocuments } from 'yaml'
import type { ServiceSpec } from '../src/services.js'

export const INFRA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const ROOT = path.resolve(INFRA, '..')

// Kubernetes objects are read loosely: the tests check their shape field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8s = any

export function parseYamlDocuments (text: string): K8s[] {
  return parseAllDocuments(text).map((d) => d.toJS() as K8s).filter((d) => d !== null)
}

/**
 * `kubectl kustomize` of an overlay. production needs secrets.env: a copy of the tree gets the
 * example's keys. `components` (paths relative to the overlay) are added to the copy's kustomization.
 */
export function renderOverlay (overlay: 'local' | 'production', { components = [] }: { components?: string[] } = {}): K8s[] {
  const work = mkdtempSync(path.join(tmpdir(), 'pulse-k8s-'))
  try {
    cpSync(path.join(INFRA, 'k8s'), path.join(work, 'k8s'), { recursive: true })
    const dir = path.join(work, 'k8s', 'overlays', overlay)
    const example = path.join(dir, 'secrets.env.example')
    if (existsSync(example)) {
      const filled = readFileSync(example, 'utf8').split('\n').map((line) => /^[A-Z0-9_]+=$/.test(line) ? `${line}test-value-${line.length}` : line)
      writeFileSync(path.join(dir, 'secrets.env'), filled.join('\n'))
    }
    if (components.length > 0) {
      const file = path.join(dir, 'kustomization.yaml')
      writeFileSync(file, `${readFileSync(file, 'utf8')}\ncomponents:\n${components.map((c) => `  - ${c}\n`).join('')}`)
    }
    return parseYamlDocuments(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }))
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/** `kubectl kustomize` of a folder of infra/ that needs no secrets (e.g. `k8s/gateway`). */
export function renderKustomization (relative: string): K8s[] {
  return parseYamlDocuments(execFileSync('kubectl', ['kustomize', path.join(INFRA, relative)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }))
}

export interface Setting {
  name: string
  /** No default and not optional: the service stops without it. */
  required: boolean
  default: unknown
}

/** A service's configuration schema (its `*ConfigProperties` export), read from its own src/config.ts. */
export async function configSettings (s: ServiceSpec): Promise<Setting[] | null> {
  const file = path.join(ROOT, s.dir, 'src', 'config.ts')
  if (!existsSync(file)) return null
  const mod = await import(pathToFileURL(file).href) as Record<string, unknown>
  const key = Object.keys(mod).find((k) => k.endsWith('ConfigProperties'))
  if (key === undefined) throw new Error(`${s.dir}/src/config.ts exports no *ConfigProperties`)
  return Object.entries(mod[key] as Record<string, Record<string, unknown>>).map(([name, prop]) => ({
    name,
    required: !('default' in prop) && prop['~optional'] !== true,
    default: prop.default
  }))
}

const DEVELOPMENT_SECRET_NAMES = ['IDENTITY_SECRET', 'SESSION_SECRET', 'TOKEN_ENCRYPTION_KEYS']
const SECRET_NAME = /(SECRET|PASSWORD|TOKEN_ENCRYPTION_KEYS|DATABASE_URL|REDIS_URL)$/

/**
 * The settings a deployment must set for a service: those without a default, the development
 * secrets, and every setting whose default only works on a developer's machine (127.0.0.1).
 */
export function settingsToWire (settings: Setting[]): Setting[] {
  return settings.filter((s) => s.required || DEVELOPMENT_SECRET_NAMES.includes(s.name) ||
    (typeof s.default === 'string' && /127\.0\.0\.1|localhost/.test(s.default)))
}

/** Settings whose value is a secret (or holds credentials): a Secret, never a ConfigMap. */
export const isSecretSetting = (name: string): boolean => SECRET_NAME.test(name)

export function readRepoFile (relative: string): string {
  return readFileSync(path.join(ROOT, relative), 'utf8')
}
