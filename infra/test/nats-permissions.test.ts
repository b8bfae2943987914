import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import * as contracts from '@pulse/contracts'
import t from 'tap'
import { STREAMS } from '../src/generated.js'
import { inboxOf, readPermissions, serverPermissions, subjectMatches, streamsOf, UNAUTHENTICATED_USER } from '../src/nats.js'
import { SERVICES } from '../src/services.js'
import { ROOT } from './helper.js'

const permissions = readPermissions()
/** Every event contract of @pulse/contracts, by its export name. */
const events = Object.entries(contracts).filter(([, v]) => typeof v === 'object' && v !== null && typeof (v as { subject?: unknown }).subject === 'string' && 'schema' in v) as [string, { subject: string }][]
const eventSubjects = events.map(([, e]) => e.subject)
const TOKEN_RPC: string[] = Object.values(contracts.TOKEN_REQUEST_SUBJECTS)
const RPC: string[] = [...TOKEN_RPC, ...Object.values(contracts.USER_DATA_SUBJECTS), ...Object.values(contracts.RECIPIENTS_SUBJECTS), ...Object.values(contracts.MOOD_DAY_SUBJECTS)]

t.test('every subject in permissions.json is a subject of @pulse/contracts', async (t) => {
  for (const [user, p] of Object.entries(permissions.users)) {
    for (const pattern of [...p.publishes, ...p.consumes]) t.ok(eventSubjects.some((s) => subjectMatches(pattern, s)), `${user}: ${pattern} matches an event contract`)
    for (const subject of [...p.requests, ...p.responds]) t.ok(RPC.includes(subject), `${user}: ${subject} is a request-reply contract`)
  }
})

t.test('every event has a publisher, every request a responder, and every published event lives in exactly one stream', async (t) => {
  const users = Object.values(permissions.users)
  for (const subject of eventSubjects) {
    t.ok(users.some((u) => u.publishes.some((p) => subjectMatches(p, subject))), `${subject} has a publisher`)
    t.equal(STREAMS.filter((s) => s.subjects.some((p) => subjectMatches(p, subject))).length, 1, `${subject} is in one stream`)
  }
  for (const subject of RPC) {
    t.equal(users.filter((u) => u.responds.includes(subject)).length, 1, `${subject} has one responding service`)
    t.equal(streamsOf([subject], STREAMS).length, 0, `${subject} is in no stream (a stream would answer the request itself)`)
  }
})

t.test('there is one NATS user per service that uses NATS, and no other', async (t) => {
  t.same(Object.keys(permissions.users).sort(), SERVICES.filter((s) => s.nats === true).map((s) => s.name).sort())
})

/** The folders of the workspace packages, by package name. */
const workspacePackages = new Map(readdirSync(path.join(ROOT, 'packages')).filter((d) => existsSync(path.join(ROOT, 'packages', d, 'package.json')))
  .map((d) => [(JSON.parse(readFileSync(path.join(ROOT, 'packages', d, 'package.json'), 'utf8')) as { name: string }).name, `packages/${d}`]))

/** A source without its type-only references (`import type`, `type X` in an import, `typeof X`): they publish nothing. */
const withoutTypeReferences = (source: string): string =>
  source.replace(/import\s+type\s*\{[^}]*\}/g, '').replace(/\btype\s+\w+/g, '').replace(/\btypeof\s+\w+/g, '')

/**
 * Source files of a service and of the workspace packages it runs with (the ingest services publish
 * and consume through @pulse/ingest-kit), concatenated. @pulse/contracts defines every subject and is
 * left out, as are the packages' test support folders (src/testing), which no service runs.
 */
function sourceOf (dir: string, seen = new Set<string>()): string {
  if (seen.has(dir)) return ''
  seen.add(dir)
  const root = path.join(ROOT, dir, 'src')
  if (!existsSync(root)) return ''
  const walk = (d: string): string[] => readdirSync(d).flatMap((f) => {
    const p = path.join(d, f)
    if (statSync(p).isDirectory()) return dir.startsWith('packages/') && p === path.join(root, 'testing') ? [] : walk(p)
    return p.endsWith('.ts') ? [p] : []
  })
  const own = walk(root).map((f) => withoutTypeReferences(readFileSync(f, 'utf8'))).join('\n')
  const pkg = JSON.parse(readFileSync(path.join(ROOT, dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }
  const deps = Object.keys(pkg.dependencies ?? {}).filter((d) => d !== '@pulse/contracts' && workspacePackages.has(d))
  return [own, ...deps.map((d) => sourceOf(workspacePackages.get(d)!, seen))].join('\n')
}

t.test('every event and request a service\'s code refers to is allowed for its NATS user', async (t) => {
  for (const s of SERVICES.filter((s) => s.simulator === undefined)) {
    const source = sourceOf(s.dir)
    const user = permissions.users[s.name]
    for (const [name, contract] of events) {
      if (!new RegExp(`\\b${name}\\b`).test(source)) continue
      t.ok(user !== undefined && [...user.publishes, ...user.consumes].some((p) => subjectMatches(p, contract.subject)),
        `${s.name} uses ${name}: ${contract.subject} is among its publishes or consumes`)
    }
    if (/\bTOKEN_REQUEST_SUBJECTS\b/.test(source)) {
      // A service asks for (or answers) exactly the tokens of the providers it works with.
      const own = (s.providers ?? []).map((p) => contracts.TOKEN_REQUEST_SUBJECTS[p]).sort()
      t.ok(own.length > 0, `${s.name} uses the provider-token request-reply and names its providers`)
      t.same([...user?.requests ?? [], ...user?.responds ?? []].filter((r) => TOKEN_RPC.includes(r)).sort(), own, `${s.name} may request or answer the token subjects of ${(s.providers ?? []).join(' and ')} only`)
    }
  }
})

t.test('each ingest service may ask for its own provider\'s tokens and no other\'s', async (t) => {
  t.same(permissions.users['twitch-ingest']?.requests, [contracts.TOKEN_REQUEST_SUBJECTS.twitch])
  t.same(permissions.users['twitter-ingest']?.requests, [contracts.TOKEN_REQUEST_SUBJECTS.twitter])
  t.same(permissions.users.auth?.responds.filter((s) => TOKEN_RPC.includes(s)).sort(), Object.values(contracts.TOKEN_REQUEST_SUBJECTS).sort(), 'auth answers both')
  for (const [name, user] of Object.entries(permissions.users)) {
    const granted = serverPermissions(name, user, STREAMS).publish
    for (const [provider, subject] of Object.entries(contracts.TOKEN_REQUEST_SUBJECTS)) {
      const may = granted.some((g) => subjectMatches(g, subject))
      t.equal(may, user.requests.includes(subject), `${name} ${may ? 'may' : 'may not'} ask for ${provider} tokens`)
    }
  }
})

t.test('auth may ask every service for a user\'s data; each service answers on its own subject only', async (t) => {
  t.same(permissions.users.auth?.requests.filter((r) => !TOKEN_RPC.includes(r)).sort(), Object.values(contracts.USER_DATA_SUBJECTS).sort())
  for (const [service, subject] of Object.entries(contracts.USER_DATA_SUBJECTS)) {
    t.same(permissions.users[service]?.responds.filter((r) => Object.values(contracts.USER_DATA_SUBJECTS).includes(r as never)), [subject], `${service} answers ${subject} only`)
  }
})

t.test('notify may ask auth for recipients and mood whether a day is logged, and nobody else may', async (t) => {
  t.same(permissions.users.notify?.requests.slice().sort(), [contracts.MOOD_DAY_SUBJECTS.notify, contracts.RECIPIENTS_SUBJECTS.notify].sort())
  t.ok(permissions.users.auth?.responds.includes(contracts.RECIPIENTS_SUBJECTS.notify), 'auth answers the recipients')
  t.ok(permissions.users.mood?.responds.includes(contracts.MOOD_DAY_SUBJECTS.notify), 'mood answers the day question')
  for (const [name, user] of Object.entries(permissions.users)) {
    if (name === 'notify') continue
    t.notOk(user.requests.some((r) => r === contracts.RECIPIENTS_SUBJECTS.notify || r === contracts.MOOD_DAY_SUBJECTS.notify), `${name} may not ask them`)
  }
})

t.test('each user may publish only its own subjects and what JetStream needs for its streams', async (t) => {
  for (const [name, user] of Object.entries(permissions.users)) {
    const granted = serverPermissions(name, user, STREAMS)
    const consumed = streamsOf(user.consumes, STREAMS)
    const own = [...user.publishes, ...user.requests, ...consumed.map((s) => contracts.deadLetterSubjects(s))]
    const streams = [...streamsOf([...user.publishes, ...user.consumes], STREAMS), ...(consumed.length > 0 ? [contracts.DEAD_LETTER_STREAM.name] : [])]
    for (const subject of granted.publish) {
      const isOwn = own.includes(subject)
      const js = /^\$JS\.(API|ACK)\./.test(subject)
      t.ok(isOwn || js, `${name}: publish ${subject} is its own, the dead letters of a stream it consumes, or JetStream's`)
      if (js && subject !== '$JS.API.INFO') {
        const stream = subject.split('.').find((tok) => [...STREAMS, contracts.DEAD_LETTER_STREAM].some((s) => s.name === tok))
        t.ok(stream !== undefined && streams.includes(stream), `${name}: ${subject} concerns one of its streams (${streams.join(', ')})`)
      }
      t.notOk(['>', '$JS.>', '$JS.API.>', '$JS.API.STREAM.>'].includes(subject) || /^\$JS\.API\.STREAM\.(DELETE|PURGE|MSG\.DELETE)\./.test(subject),
        `${name}: ${subject} neither deletes nor purges a stream, nor opens the whole API`)
    }
    t.same(granted.subscribe, [`${inboxOf(name)}.>`, ...user.consumes, ...user.responds], `${name}: subscribes to its own inbox and its own subjects`)
    t.notOk(granted.subscribe.some((g) => subjectMatches(g, '_INBOX.x') || Object.keys(permissions.users).some((o) => o !== name && subjectMatches(g, `${inboxOf(o)}.x`))),
      `${name}: subscribes to no other connection's inbox`)
    t.equal(granted.allowResponses, user.responds.length > 0, `${name}: answers requests only if it is a responder`)
    for (const other of Object.keys(permissions.users).filter((o) => o !== name)) {
      for (const subject of permissions.users[other]!.publishes.filter((p) => !user.publishes.includes(p))) {
        t.notOk(granted.publish.some((g) => subjectMatches(g, subject) || g === subject), `${name} cannot publish ${other}'s ${subject}`)
      }
    }
  }
})

t.test('the generated configuration has JetStream with sync_interval always, and a user per service with its password from the environment', async (t) => {
  const conf = readFileSync(path.join(ROOT, 'infra', 'nats', 'nats.conf'), 'utf8')
  t.match(conf, /jetstream \{[^}]*sync_interval: always/)
  for (const name of Object.keys(permissions.users)) {
    t.match(conf, new RegExp(`user: "${name}"\\n\\s+password: \\$${name.toUpperCase().replaceAll('-', '_')}_NATS_PASSWORD\\n`), `${name}: its password is an environment variable`)
  }
  t.equal(conf.includes(`no_auth_user: "${UNAUTHENTICATED_USER}"`), permissions.unauthenticated.allow, 'connections without credentials are accepted exactly when permissions.json says so')
})
