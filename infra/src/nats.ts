import { readFileSync } from 'node:fs'
import { DEAD_LETTER_STREAM, deadLetterSubjects } from '@pulse/contracts'

/**
 * The NATS server configuration, generated from infra/nats/permissions.json: one user per service,
 * allowed its own subjects and what JetStream needs for the streams those subjects live in.
 */

export interface UserPermissions {
  publishes: string[]
  consumes: string[]
  requests: string[]
  responds: string[]
}

export interface PermissionsFile {
  users: Record<string, UserPermissions>
  unauthenticated: { allow: boolean }
}

export interface StreamLike { name: string, subjects: readonly string[] }

export const PERMISSIONS_PATH = new URL('../nats/permissions.json', import.meta.url)
export const UNAUTHENTICATED_USER = 'unauthenticated'

export function readPermissions (): PermissionsFile {
  return JSON.parse(readFileSync(PERMISSIONS_PATH, 'utf8')) as PermissionsFile
}

/** NATS subject matching: `*` is one token, `>` one or more at the end. */
export function subjectMatches (pattern: string, subject: string): boolean {
  const p = pattern.split('.')
  const s = subject.split('.')
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i
    if (i >= s.length) return false
    if (p[i] !== '*' && p[i] !== s[i]) return false
  }
  return p.length === s.length
}

/** Does some subject that `pattern` matches fall into `streamPattern` (both may hold wildcards)? */
export function patternsOverlap (a: string, b: string): boolean {
  const x = a.split('.')
  const y = b.split('.')
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] === '>' || y[i] === '>') return x[i] !== undefined && y[i] !== undefined
    if (x[i] === undefined || y[i] === undefined) return false
    if (x[i] !== '*' && y[i] !== '*' && x[i] !== y[i]) return false
  }
  return true
}

/** The streams whose subjects the given subjects fall into. */
export function streamsOf (subjects: readonly string[], streams: readonly StreamLike[]): string[] {
  return streams.filter((st) => subjects.some((sub) => st.subjects.some((p) => patternsOverlap(p, sub)))).map((st) => st.name).sort()
}

/**
 * What a user that consumes may publish besides its own subjects: the dead letters of the streams
 * it consumes (events its durable consumers gave up on), into the dead-letter stream.
 */
export function deadLetterPublishes (user: UserPermissions, streams: readonly StreamLike[]): string[] {
  return streamsOf(user.consumes, streams).map(deadLetterSubjects)
}

/** JetStream API subjects a user needs: declare the streams it touches, run consumers on those it reads. */
export function jetStreamSubjects (user: UserPermissions, streams: readonly StreamLike[]): string[] {
  const consumed = streamsOf(user.consumes, streams)
  const touched = [...streamsOf([...user.publishes, ...user.consumes], streams), ...(consumed.length > 0 ? [DEAD_LETTER_STREAM.name] : [])]
  if (touched.length === 0) return []
  return [
    '$JS.API.INFO',
    ...touched.flatMap((s) => ['INFO', 'CREATE', 'UPDATE'].map((op) => `$JS.API.STREAM.${op}.${s}`)),
    ...consumed.flatMap((s) => [
      `$JS.API.CONSUMER.CREATE.${s}`,
      `$JS.API.CONSUMER.CREATE.${s}.>`,
      `$JS.API.CONSUMER.DURABLE.CREATE.${s}.>`,
      `$JS.API.CONSUMER.INFO.${s}.>`,
      `$JS.API.CONSUMER.DELETE.${s}.>`,
      `$JS.API.CONSUMER.MSG.NEXT.${s}.>`,
      `$JS.ACK.${s}.>`
    ])
  ]
}

export interface ServerPermissions {
  publish: string[]
  subscribe: string[]
  allowResponses: boolean
}

/**
 * The inbox of a service's connections: @pulse/service-kit connects with `inboxPrefix: '_INBOX_' + name`,
 * the name being the service's (its NATS user). Replies to one service (provider tokens among them)
 * cannot be read by another.
 */
export const inboxOf = (user: string): string => `_INBOX_${user}`

export function serverPermissions (name: string, user: UserPermissions, streams: readonly StreamLike[]): ServerPermissions {
  return {
    publish: [...user.publishes, ...user.requests, ...deadLetterPublishes(user, streams), ...jetStreamSubjects(user, streams)],
    // Replies (JetStream API, publish acknowledgements, pulled messages, answers to requests) come to
    // the service's own inbox.
    subscribe: [`${inboxOf(name)}.>`, ...user.consumes, ...user.responds],
    // Answers go only to the reply subject of a request received, never to any inbox.
    allowResponses: user.responds.length > 0
  }
}

/** The environment variable holding a user's password (from the Secret / .env). */
export const passwordVariable = (user: string): string => `${user.toUpperCase().replaceAll('-', '_')}_NATS_PASSWORD`

function unionOf (all: ServerPermissions[]): ServerPermissions {
  const uniq = (xs: string[]) => [...new Set(xs)]
  return {
    publish: uniq(all.flatMap((p) => p.publish)),
    subscribe: uniq(all.flatMap((p) => p.subscribe)),
    allowResponses: all.some((p) => p.allowResponses)
  }
}

export interface NatsConfOptions {
  port?: number
  monitorPort?: number
  storeDir?: string
  /** Left out only where the server is older than 2.10 (the tests' local server): production always has it. */
  syncAlways?: boolean
}

const list = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`

function userBlock (name: string, p: ServerPermissions, password: string | null): string {
  return [
    '    {',
    `      user: ${JSON.stringify(name)}`,
    ...(password === null ? [] : [`      password: ${password}`]),
    '      permissions: {',
    `        publish: { allow: ${list(p.publish)} }`,
    `        subscribe: { allow: ${list(p.subscribe)} }`,
    ...(p.allowResponses ? ['        allow_responses: true'] : []),
    '      }',
    '    }'
  ].join('\n')
}

export function renderNatsConf (file: PermissionsFile, streams: readonly StreamLike[], options: NatsConfOptions = {}): string {
  const { port = 4222, monitorPort = 8222, storeDir = '/data', syncAlways = true } = options
  const perms = Object.entries(file.users).map(([name, u]) => [name, serverPermissions(name, u, streams)] as const)
  const users = perms.map(([name, p]) => userBlock(name, p, `$${passwordVariable(name)}`))
  if (file.unauthenticated.allow) users.push(userBlock(UNAUTHENTICATED_USER, unionOf(perms.map(([, p]) => p)), null))
  return `# Generated from infra/nats/permissions.json by \`pnpm --filter @pulse/infra generate\`: edit that file, not this one.
# Every password comes from the environment (<USER>_NATS_PASSWORD), never from this file.
port: ${port}
http_port: ${monitorPort}
max_payload: 1MB

jetstream {
  store_dir: ${JSON.stringify(storeDir)}
${syncAlways
    ? `  # Fsync every write before acknowledging it. The default (every 2 minutes) can lose acknowledged
  # events in an OS crash; our streams run on one replica, so the disk is the only copy. The cost is
  # one fsync per message, small at Pulse's event rates (infra/README.md, "NATS").
  sync_interval: always
`
    : ''}}

authorization {
  users: [
${users.join('\n')}
  ]
}
${file.unauthenticated.allow
    ? `
# Connections without credentials act as this user (the union of the services'): see permissions.json.
no_auth_user: ${JSON.stringify(UNAUTHENTICATED_USER)}
`
    : ''}`
}
