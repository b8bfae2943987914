import Type, { type Static, type TObject, type TProperties } from 'typebox'
import Value from 'typebox/value'

/**
 * Secrets that only exist so that a fresh clone runs with no setup. A production process refuses
 * to start with any of them (ARCHITECTURE: Configuration).
 */
export const DEVELOPMENT_SECRETS = {
  IDENTITY_SECRET: 'pulse-dev-identity-secret-do-not-use-in-production',
  SESSION_SECRET: 'pulse-dev-session-secret-do-not-use-in-production-0000',
  TOKEN_ENCRYPTION_KEYS: 'dev:MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA='
} as const

export class ConfigError extends Error {
  constructor (readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
  }
}

/** A URL setting; `protocols` lists the schemes it accepts (without the colon). */
export function UrlSetting (defaultValue: string, protocols: string[], options: { credentials?: { user: string, password: string } } = {}) {
  return Type.String({
    default: defaultValue,
    'x-url-protocols': protocols,
    ...(options.credentials === undefined ? {} : { 'x-url-credentials': options.credentials })
  })
}

/** Settings every service has. */
export const BaseConfigProperties = {
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], { default: 'development' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  /** Shared by the gateway (signs) and every service (verifies). */
  IDENTITY_SECRET: Type.String({ minLength: 32, default: DEVELOPMENT_SECRETS.IDENTITY_SECRET }),
  /** The previous identity secret, accepted while a rotation rolls out. */
  IDENTITY_SECRET_PREVIOUS: Type.Optional(Type.String({ minLength: 32 })),
  /** How long a request may take before the service gives up on it. */
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 15_000 }),
  /** How long SIGTERM waits for requests in flight before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 100 * 1024 }),
  /**
   * Test-only probes (GET /_test/prototype: was Object.prototype polluted in this process?), for the
   * end-to-end fuzzer to look inside the services. Refused unless NODE_ENV=test.
   */
  TEST_PROBES: Type.Boolean({ default: false })
} satisfies TProperties

export const DatabaseConfigProperties = {
  DATABASE_URL: UrlSetting('postgres://postgres@127.0.0.1:5432/pulse', ['postgres', 'postgresql']),
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, default: 10 }),
  /** A request waiting longer than this for a connection fails fast with 503 (Postgres down). */
  DATABASE_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 2000 })
} satisfies TProperties

export const NatsConfigProperties = {
  /**
   * The server. Its credentials may be in it (`nats://user:password@host:port`, percent-encoded) or
   * in NATS_USER/NATS_PASSWORD, which loadConfig writes into it: services connect with NATS_URL alone.
   */
  NATS_URL: UrlSetting('nats://127.0.0.1:4222', ['nats', 'tls'], { credentials: { user: 'NATS_USER', password: 'NATS_PASSWORD' } }),
  /** This service's NATS user (infra/nats/permissions.json); unset where the server needs no login. */
  NATS_USER: Type.Optional(Type.String({ minLength: 1 })),
  NATS_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  /** Prefix of every subject and stream name; empty in production, unique per test file. */
  NATS_PREFIX: Type.String({ default: '', pattern: '^[A-Za-z0-9_-]*$' })
} satisfies TProperties

export const RedisConfigProperties = {
  REDIS_URL: UrlSetting('redis://127.0.0.1:6379', ['redis', 'rediss']),
  /** Prefix of every Redis key; unique per test file. */
  REDIS_PREFIX: Type.String({ default: 'pulse:' })
} satisfies TProperties

/**
 * Writes the user and password settings into the URL setting `key` (percent-encoded, so any
 * character may be in a password): whoever connects with the URL alone logs in. Answers a problem
 * if only one of the two is set, or if the URL already holds credentials too.
 */
function withCredentials (config: Record<string, unknown>, key: string, names: { user: string, password: string }): string | undefined {
  const user = config[names.user] as string | undefined
  const password = config[names.password] as string | undefined
  if (user === undefined && password === undefined) return undefined
  if (user === undefined) return `${names.password} is set but ${names.user} is not`
  if (password === undefined) return `${names.user} is set but ${names.password} is not`
  let url: URL
  try { url = new URL(config[key] as string) } catch { return undefined } // reported as a malformed URL
  if (url.username !== '' || url.password !== '') return `${key} holds credentials and ${names.user}/${names.password} are set too: set one of them`
  url.username = user
  url.password = password
  config[key] = url.href
  return undefined
}

export interface LoadConfigOptions {
  /** Settings that must not keep their development value when NODE_ENV=production. */
  secrets?: readonly (keyof typeof DEVELOPMENT_SECRETS)[]
}

/**
 * Reads the environment once: converts strings to numbers and booleans, applies defaults,
 * validates, and throws a ConfigError naming every bad variable.
 */
export function loadConfig<P extends TProperties> (
  properties: P,
  env: Record<string, string | undefined> = process.env,
  options: LoadConfigOptions = {}
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
    let url: URL | undefined
    try { url = new URL(value) } catch { url = undefined }
    if (url === undefined || url.hostname === '' || !protocols.includes(url.protocol.slice(0, -1))) {
      problems.push(`${key} must be a URL of the form ${protocols[0]}://host:port (got "${value}")`)
    }
  }
  for (const [key, prop] of Object.entries(properties)) {
    const credentials = (prop as Record<string, unknown>)['x-url-credentials'] as { user: string, password: string } | undefined
    if (credentials === undefined || typeof converted[key] !== 'string') continue
    const problem = withCredentials(converted, key, credentials)
    if (problem !== undefined) problems.push(problem)
  }
  if (converted.TEST_PROBES === true && converted.NODE_ENV !== 'test') problems.push('TEST_PROBES may only be set with NODE_ENV=test')
  if (converted.NODE_ENV === 'production') {
    for (const secret of options.secrets ?? []) {
      if (converted[secret] === DEVELOPMENT_SECRETS[secret]) {
        problems.push(`${secret} still has its development value; set a real secret in production`)
      }
    }
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)])
  return converted as Static<TObject<P>>
}
