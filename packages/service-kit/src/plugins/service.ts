import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { validatorCompiler } from '../validation.js'
import errors from './errors.js'
import health from './health.js'
import identity from './identity.js'
import metrics from './metrics.js'
import requestId from './request-id.js'
import tracing from './tracing.js'
import { tracingEnabled } from '../tracing.js'

export interface ServicePluginOptions {
  /** The error-code prefix: AUTH, MOOD, CONTACT… */
  prefix: string
  /** Current identity secret first, then the previous one during a rotation. */
  identitySecrets: readonly string[]
  /**
   * The service's name (`mood`, `auth`…), the audience of the identity assertions it accepts; the
   * gateway mints each upstream's assertions for that upstream's name. Required unless verifyIdentity is false.
   */
  audience?: string
  /** The gateway signs identities and verifies none. */
  verifyIdentity?: boolean
  /** This service's part of the API reference, served at /openapi.json for the gateway to assemble. */
  openapi?: { title: string, description?: string }
  /** TEST_PROBES: the test-only probe routes (never with NODE_ENV other than test; config refuses it). */
  testProbes?: boolean
  /**
   * Prometheus metrics (`app.metrics`): on when the process serves them (METRICS_PORT set; see
   * `listenUntilSignalled`). Labelled with `audience`, else the prefix in lower case (the gateway).
   */
  metrics?: boolean
}

/** The settings of BaseConfigProperties that the service plugin reads. */
export interface ServiceSettings {
  IDENTITY_SECRET: string
  IDENTITY_SECRET_PREVIOUS?: string
  TEST_PROBES: boolean
  METRICS_PORT?: number
}

/**
 * The service plugin's options from the settings every service has: the identity secrets (the
 * current one, then the previous during a rotation), the test probes, and metrics when served.
 */
export function serviceOptionsOf (config: ServiceSettings, options: { prefix: string, audience: string, openapi: NonNullable<ServicePluginOptions['openapi']> }): ServicePluginOptions {
  return {
    ...options,
    identitySecrets: config.IDENTITY_SECRET_PREVIOUS === undefined ? [config.IDENTITY_SECRET] : [config.IDENTITY_SECRET, config.IDENTITY_SECRET_PREVIOUS],
    testProbes: config.TEST_PROBES,
    metrics: config.METRICS_PORT !== undefined
  }
}

/** Properties the built-in prototypes have at start; anything added later is pollution. */
const PROTOTYPES = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype, String: String.prototype } as const
const pristine = Object.fromEntries(Object.entries(PROTOTYPES).map(([name, proto]) => [name, new Set(Reflect.ownKeys(proto))]))

/** Names of properties added to a built-in prototype since this module was loaded, e.g. `Object.polluted`. */
export function prototypePollution (): string[] {
  return Object.entries(PROTOTYPES).flatMap(([name, proto]) => Reflect.ownKeys(proto).filter((key) => !pristine[name]!.has(key)).map((key) => `${name}.${String(key)}`))
}

/** The session cookie: how a browser or API client authenticates at the gateway. */
export const SESSION_SECURITY_SCHEME = { sessionCookie: { type: 'apiKey', in: 'cookie', name: 'pulse_session' } } as const

/** What every service has: request ids, one error shape, TypeBox validation, health, identity. */
async function servicePlugin (app: FastifyInstance, options: ServicePluginOptions) {
  app.setValidatorCompiler(validatorCompiler)
  // Fastify reads text/plain bodies as strings by default. Every route here takes JSON; a text/plain
  // body is what a cross-site form can send without a CORS preflight, so it gets 415 unread.
  app.removeContentTypeParser('text/plain')
  if (options.openapi !== undefined) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: { title: options.openapi.title, description: options.openapi.description, version: '1.0.0' },
        components: { securitySchemes: SESSION_SECURITY_SCHEME },
        security: [{ sessionCookie: [] }]
      }
    })
    app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger())
  }
  if (options.testProbes === true) {
    // A fuzzer sending `__proto__` payloads must see pollution where it would happen: in the service.
    app.get('/_test/prototype', { config: { public: true }, schema: { hide: true } }, async () => ({ polluted: prototypePollution() }))
  }
  const service = options.audience ?? options.prefix.toLowerCase()
  await app.register(metrics, { service, enabled: options.metrics === true })
  if (tracingEnabled()) await app.register(tracing, { service })
  await app.register(requestId)
  await app.register(errors, { prefix: options.prefix })
  await app.register(health, { prefix: options.prefix })
  if (options.verifyIdentity !== false) {
    if (options.audience === undefined || options.audience === '') throw new Error('servicePlugin: audience (the service\'s name) is required to verify identities')
    await app.register(identity, { prefix: options.prefix, secrets: options.identitySecrets, audience: options.audience })
  }
}

export default fp(servicePlugin, { name: 'pulse-service', fastify: '5.x' })
