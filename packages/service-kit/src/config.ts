import { SIMULATOR_CREDENTIALS } from '@pulse/contracts'
import Type, { type Static, type TObject, type TProperties } from 'typebox'
import Value from 'typebox/value'
import { SENTINEL_LIST_PATTERN } from './redis.js'

/**
 * Secrets that only exist so that a fresh clone runs with no setup. A production process refuses
 * to start with any of them (docs/architecture.md, "Configuration").
 */
export const DEVELOPMENT_SECRETS = {
  IDENTITY_SECRET: 'pulse-dev-identity-secret-do-not-use-in-production',
  SESSION_SECRET: 'pulse-dev-session-secret-do-not-use-in-production-0000',
  TOKEN_ENCRYPTION_KEYS: 'dev:MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=',
  NOTIFY_LINK_SECRET: 'pulse-dev-notify-link-secret-do-not-use-in-production'
} as const

/**
 * Every value that exists only for local use: the development secrets, the provider simulator's
 * fixed credentials and the local passwords of `.env.example`. They are public (they are in this
 * repository), so a production process refuses any secret setting equal to any of them, whichever
 * setting it was meant for.
 */
export const DEVELOPMENT_VALUES: readonly string[] = [
  ...Object.values(DEVELOPMENT_SECRETS),
  // The key inside the development TOKEN_ENCRYPTION_KEYS, whatever id it is listed under.
  'MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=',
  ...Object.values(SIMULATOR_CREDENTIALS).flatMap((app) => Object.values(app)),
  'pulse-local-postgres', 'pulse-local-redis', 'pulse-local-auth', 'pulse-local-contact', 'pulse-local-gateway', 'pulse-local-mood', 'pulse-local-notify',
  'pulse-local-twitch-ingest', 'pulse-local-twitter-ingest', 'pulse-dev-eventsub-secret'
]

/** Settings treated as secrets even without the `x-secret` annotation. */
const SECRET_NAME = /(SECRET|PASSWORD|_KEYS)(_PREVIOUS)?$/

/** The shortest secret production accepts unless a setting says otherwise (`x-secret-min-length`). */
export const MIN_SECRET_LENGTH = 32

/**
 * Hides the credentials of every URL in a text (`scheme://user:password@host` → `scheme://***@host`):
 * configuration errors quote values, and a URL setting may hold a password.
 */
export function redactCredentials (text: string): string {
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s"]*)@/g, '$1***@')
}

/** A URL setting's value as an error may quote it: everything between the scheme and the last `@` hidden, even when it does not parse. */
function redactUrlValue (value: string): string {
  const at = value.lastIndexOf('@')
  if (at === -1) return value
  const scheme = value.indexOf('://')
  const start = scheme !== -1 && scheme < at ? scheme + 3 : 0
  return `${value.slice(0, start)}***${value.slice(at)}`
}

export class ConfigError extends Error {
  readonly problems: string[]

  constructor (problems: string[]) {
    const redacted = problems.map(redactCredentials)
    super(`Invalid configuration:\n  - ${redacted.join('\n  - ')}`)
    this.problems = redacted
    this.name = 'ConfigError'
  }
}

/**
 * A URL setting; `protocols` lists the schemes it accepts (without the colon). With `list`, the value
 * may be several URLs separated by commas (the servers of one cluster), each checked on its own.
 */
export function UrlSetting (defaultValue: string, protocols: string[], options: { credentials?: { user: string, password: string }, list?: boolean } = {}) {
  return Type.String({
    default: defaultValue,
    'x-url-protocols': protocols,
    ...(options.credentials === undefined ? {} : { 'x-url-credentials': options.credentials }),
    ...(options.list === true ? { 'x-url-list': true } : {})
  })
}

/** The URLs of a URL setting's value: itself, or each comma-separated entry of a list setting. */
function urlsOf (prop: unknown, value: string): string[] {
  if ((prop as Record<string, unknown>)['x-url-list'] !== true) return [value]
  return value.split(',').map((entry) => entry.trim())
}

/** Settings every service has. */
export const BaseConfigProperties = {
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], { default: 'development' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  /** Shared by the gateway (signs) and every service (verifies). */
  IDENTITY_SECRET: Type.String({ minLength: 32, default: DEVELOPMENT_SECRETS.IDENTITY_SECRET, 'x-secret': true }),
  /** The previous identity secret, accepted while a rotation rolls out. */
  IDENTITY_SECRET_PREVIOUS: Type.Optional(Type.String({ minLength: 32, 'x-secret': true })),
  /** How long a request may take before the service gives up on it. */
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 15_000 }),
  /** How long SIGTERM waits for requests in flight before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 100 * 1024 }),
  /**
   * Test-only probes (GET /_test/prototype: was Object.prototype polluted in this process?), for the
   * end-to-end fuzzer to look inside the services. Refused unless NODE_ENV=test.
   */
  TEST_PROBES: Type.Boolean({ default: false }),
  /**
   * Where the process serves Prometheus metrics (`GET /metrics`), on a port of its own that the
   * gateway never exposes. Unset: no metrics are collected and nothing listens. 0: any free port.
   */
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  /** The address the metrics port listens on; unset: HOST. */
  METRICS_HOST: Type.Optional(Type.String({ minLength: 1 })),
  /** OpenTelemetry collector (OTLP over HTTP, `<url>/v1/traces`). Unset: no tracing, no SDK loaded. */
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(Type.String({ 'x-url-protocols': ['http', 'https'] })),
  /** The share of new traces recorded, 0…1 (a trace begun upstream follows the caller's decision). */
  OTEL_TRACES_SAMPLER_ARG: Type.Number({ minimum: 0, maximum: 1, default: 1 })
} satisfies TProperties

export const DatabaseConfigProperties = {
  DATABASE_URL: UrlSetting('postgres://postgres@127.0.0.1:5432/pulse', ['postgres', 'postgresql']),
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, default: 10 }),
  /** A request waiting longer than this for a connection fails fast with 503 (Postgres down). */
  DATABASE_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 2000 }),
  /** A statement running longer than this is cancelled (the request answers 503); 0 turns it off. */
  DATABASE_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 5000 }),
  /** A statement waiting longer than this for a lock another connection holds gives up (503); 0 turns it off. */
  DATABASE_LOCK_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 2000 }),
  /** A connection left idle inside an open transaction this long is closed by Postgres (its locks released); 0 turns it off. */
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 10_000 })
} satisfies TProperties

export const NatsConfigProperties = {
  /**
   * The server, or the servers of a cluster separated by commas (the client is given every one and
   * moves to another when one fails). Credentials may be in it (`nats://user:password@host:port`,
   * percent-encoded, the same in every URL) or in NATS_USER/NATS_PASSWORD, which loadConfig writes
   * into every URL: services connect with NATS_URL alone.
   */
  NATS_URL: UrlSetting('nats://127.0.0.1:4222', ['nats', 'tls'], { credentials: { user: 'NATS_USER', password: 'NATS_PASSWORD' }, list: true }),
  /** This service's NATS user (infra/nats/permissions.json); unset where the server needs no login. */
  NATS_USER: Type.Optional(Type.String({ minLength: 1 })),
  NATS_PASSWORD: Type.Optional(Type.String({ minLength: 1, 'x-secret': true })),
  /** Prefix of every subject and stream name; empty in production, unique per test file. */
  NATS_PREFIX: Type.String({ default: '', pattern: '^[A-Za-z0-9_-]*$' }),
  /**
   * Deliveries of one event a durable consumer makes at most: an event whose handler still fails
   * then goes to the dead-letter stream (DEAD_LETTERS) instead of being retried forever.
   */
  NATS_MAX_DELIVER: Type.Integer({ minimum: 1, default: 10 }),
  /**
   * Copies of every stream Pulse declares, each on a different server of the cluster (JetStream
   * allows 1 to 5). A stream found with another count is brought to this one at start. 1 for a
   * single server; 3 in production, where a stream survives the loss of any one server.
   */
  NATS_STREAM_REPLICAS: Type.Integer({ minimum: 1, maximum: 5, default: 1 })
} satisfies TProperties

export const RedisConfigProperties = {
  /** The server; with REDIS_SENTINELS, only its login, database and TLS (`rediss:`) are read from it. */
  REDIS_URL: UrlSetting('redis://127.0.0.1:6379', ['redis', 'rediss']),
  /**
   * Sentinels (`host:port,host:port`): when set, Redis is reached through them, at whichever server
   * is the primary of REDIS_SENTINEL_NAME now, and a failover needs no restart.
   */
  REDIS_SENTINELS: Type.Optional(Type.String({ pattern: SENTINEL_LIST_PATTERN })),
  /** The primary's name in the Sentinels' configuration (`sentinel monitor <name> …`). */
  REDIS_SENTINEL_NAME: Type.String({ default: 'mymaster', minLength: 1 }),
  /** The Sentinels' own password (their `requirepass`), where they have one. */
  REDIS_SENTINEL_PASSWORD: Type.Optional(Type.String({ minLength: 1, 'x-secret': true })),
  /** Prefix of every Redis key; unique per test file. */
  REDIS_PREFIX: Type.String({ default: 'pulse:' }),
  /**
   * A Redis command not answered in this time fails (the request answers 503): a Redis that stops
   * answering without closing its connection never holds a request.
   */
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 500 })
} satisfies TProperties

/**
 * Writes the user and password settings into the URL setting `key` (percent-encoded, so any
 * character may be in a password): whoever connects with the URL alone logs in. Answers a problem
 * if only one of the two is set, or if the URL already holds credentials too.
 */
function withCredentials (config: Record<string, unknown>, key: string, names: { user: string, password: string }, prop: unknown): string | undefined {
  const user = config[names.user] as string | undefined
  const password = config[names.password] as string | undefined
  if (user === undefined && password === undefined) return undefined
  if (user === undefined) return `${names.password} is set but ${names.user} is not`
  if (password === undefined) return `${names.user} is set but ${names.password} is not`
  const written: string[] = []
  for (const entry of urlsOf(prop, config[key] as string)) {
    let url: URL
    try { url = new URL(entry) } catch { return undefined } // reported as a malformed URL
    if (url.username !== '' || url.password !== '') return `${key} holds credentials and ${names.user}/${names.password} are set too: set one of them`
    url.username = user
    url.password = password
    written.push(url.href)
  }
  config[key] = written.join(',')
  return undefined
}

export interface LoadConfigOptions<C = Record<string, unknown>> {
  /** Settings that must not keep their development value when NODE_ENV=production. */
  secrets?: readonly (keyof typeof DEVELOPMENT_SECRETS)[]
  /** The service's own checks of the converted settings (one setting against another…): their problems are reported with the kit's, in one error. */
  check?: (config: C) => string[]
}

/**
 * Reads the environment once: converts strings to numbers and booleans, applies defaults,
 * validates, and throws a ConfigError naming every bad variable.
 */
export function loadConfig<P extends TProperties> (
  properties: P,
  env: Record<string, string | undefined> = process.env,
  options: LoadConfigOptions<Static<TObject<P>>> = {}
): Static<TObject<P>> {
  const schema = Type.Object(properties)
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') raw[key] = value
  }
  const converted = Value.Convert(schema, Value.Default(schema, raw)) as Record<string, unknown>
  const problems: string[] = []
  for (const error of Value.Errors(schema, converted)) {
    const name = error.instancePath.replace(/^\//, '')
    if (error.keyword === 'required') {
      const missing = (error.params as { requiredProperties?: string[] }).requiredProperties ?? []
      for (const m of missing) problems.push(`${m} is required but not set`)
    } else if (name !== '') {
      problems.push(`${name} ${error.message}`)
    }
  }
  for (const [key, prop] of Object.entries(properties)) {
    const protocols = (prop as Record<string, unknown>)['x-url-protocols'] as string[] | undefined
    const value = converted[key]
    if (protocols === undefined || typeof value !== 'string') continue
    for (const entry of urlsOf(prop, value)) {
      let url: URL | undefined
      try { url = new URL(entry) } catch { url = undefined }
      if (url === undefined || url.hostname === '' || !protocols.includes(url.protocol.slice(0, -1))) {
        const form = (prop as Record<string, unknown>)['x-url-list'] === true ? `${protocols[0]}://host:port, or several separated by commas` : `${protocols[0]}://host:port`
        problems.push(`${key} must be a URL of the form ${form} (got "${redactUrlValue(entry)}")`)
      }
    }
  }
  for (const [key, prop] of Object.entries(properties)) {
    const credentials = (prop as Record<string, unknown>)['x-url-credentials'] as { user: string, password: string } | undefined
    if (credentials === undefined || typeof converted[key] !== 'string') continue
    const problem = withCredentials(converted, key, credentials, prop)
    if (problem !== undefined) problems.push(problem)
  }
  // The service's checks read typed settings: only once every setting has its type.
  if (options.check !== undefined && problems.length === 0) problems.push(...options.check(converted as Static<TObject<P>>))
  if (converted.TEST_PROBES === true && converted.NODE_ENV !== 'test') problems.push('TEST_PROBES may only be set with NODE_ENV=test')
  if (converted.NODE_ENV === 'production') {
    for (const secret of options.secrets ?? []) {
      if (converted[secret] === DEVELOPMENT_SECRETS[secret]) {
        problems.push(`${secret} still has its development value; set a real secret in production`)
      }
    }
    problems.push(...productionSecretProblems(properties, converted))
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)])
  return converted as Static<TObject<P>>
}

/** The parts of a secret that must not be a development value: the whole, each comma-separated entry, and each entry's value after `id:` (key lists). */
function partsOf (value: string): string[] {
  const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '')
  return [value, ...entries, ...entries.map((e) => e.slice(e.indexOf(':') + 1))]
}

/**
 * Production's rules for secrets: every secret setting (annotated `x-secret`, or named like one:
 * `*_SECRET`, `*_PASSWORD`, `*_KEYS`, and their `*_PREVIOUS`) must not be, nor contain as a listed
 * key, any development value, and must be at least MIN_SECRET_LENGTH characters (or the setting's
 * own `x-secret-min-length`); a password inside a URL setting must not be a development value.
 * Messages name the setting, never the value.
 */
function productionSecretProblems (properties: TProperties, config: Record<string, unknown>): string[] {
  const problems: string[] = []
  const development = new Set(DEVELOPMENT_VALUES)
  for (const [key, prop] of Object.entries(properties)) {
    const annotations = prop as Record<string, unknown>
    const value = config[key]
    if (typeof value !== 'string') continue
    if (annotations['x-url-protocols'] !== undefined) {
      // A password written into the URL from its own setting (NATS_PASSWORD) is checked as that setting.
      const credentials = annotations['x-url-credentials'] as { password: string } | undefined
      if (credentials !== undefined && config[credentials.password] !== undefined) continue
      for (const entry of urlsOf(prop, value)) {
        let password: string
        try { password = decodeURIComponent(new URL(entry).password) } catch { continue }
        if (password !== '' && development.has(password)) problems.push(`${key} holds a development password; set a real one in production`)
      }
      continue
    }
    if (annotations['x-secret'] !== true && !SECRET_NAME.test(key)) continue
    if (value === (DEVELOPMENT_SECRETS as Record<string, string>)[key]) {
      problems.push(`${key} still has its development value; set a real secret in production`)
      continue
    }
    if (partsOf(value).some((part) => development.has(part))) {
      problems.push(`${key} is (or lists) a development value, which is public; set a real secret in production`)
      continue
    }
    const minLength = typeof annotations['x-secret-min-length'] === 'number' ? annotations['x-secret-min-length'] : MIN_SECRET_LENGTH
    if (value.length < minLength) problems.push(`${key} is too short for production (at least ${minLength} characters)`)
  }
  return problems
}
