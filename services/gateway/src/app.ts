import cors from '@fastify/cors'
import { redisConnectionOf, redisPlugin, servicePlugin } from '@pulse/service-kit'
import type { FastifyInstance } from 'fastify'
import type { GatewayConfig } from './config.js'
import { GatewayPayloadTooLargeError } from './errors.js'
import crossSite from './plugins/cross-site.js'
import rateLimit from './plugins/rate-limit.js'
import securityHeaders, { helmetHeaders } from './plugins/security-headers.js'
import sessions from './plugins/sessions.js'
import dashboardRoutes from './routes/dashboard.js'
import docsRoutes from './routes/docs.js'
import eventsRoutes from './routes/events.js'
import proxyRoutes from './routes/proxy.js'

export interface GatewayAppOptions {
  config: GatewayConfig
}

export default async function gatewayApp (app: FastifyInstance, { config }: GatewayAppOptions) {
  await app.register(servicePlugin, { prefix: 'GATEWAY', identitySecrets: [], verifyIdentity: false, testProbes: config.TEST_PROBES, metrics: config.METRICS_PORT !== undefined })
  await app.register(redisPlugin, { ...redisConnectionOf(config), keyPrefix: config.REDIS_PREFIX, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS })
  const csp = { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], connectSrc: ["'self'"], fontSrc: ["'self'"], objectSrc: ["'none'"], frameAncestors: ["'none'"], formAction: ["'self'"] }
  await app.register(securityHeaders, { contentSecurityPolicy: { directives: csp } })
  // Swagger UI (the API reference) sets one inline style of its own; only its pages allow that.
  const docsPolicy = helmetHeaders({ contentSecurityPolicy: { directives: { ...csp, styleSrc: ["'self'", "'unsafe-inline'"] } } })['content-security-policy']!
  app.addHook('onRequest', (request, reply, done) => {
    if (request.url === '/docs' || request.url.startsWith('/docs/')) void reply.header('content-security-policy', docsPolicy)
    done()
  })
  await app.register(cors, { origin: [config.FRONTEND_URL], credentials: true, exposedHeaders: ['x-request-id', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'] })

  // Proxied bodies are streamed, not parsed, so Fastify's bodyLimit does not see them.
  app.addHook('onRequest', (request, _reply, done) => {
    const length = request.headers['content-length']
    done(length !== undefined && Number(length) > config.BODY_LIMIT_BYTES ? new GatewayPayloadTooLargeError(config.BODY_LIMIT_BYTES) : undefined)
  })

  await app.register(crossSite, { frontendUrl: config.FRONTEND_URL, publicUrl: config.PUBLIC_URL })
  await app.register(sessions, { config })

  await app.register(rateLimit, {
    syncMs: config.RATE_LIMIT_SYNC_MS,
    windowMs: config.RATE_LIMIT_WINDOW_MS,
    perUser: config.RATE_LIMIT_PER_USER,
    perAddress: config.RATE_LIMIT_PER_ADDRESS,
    webhooksPerAddress: config.RATE_LIMIT_WEBHOOKS_PER_ADDRESS
  })

  await app.register(proxyRoutes, { config })
  await app.register(eventsRoutes, { config })
  await app.register(docsRoutes, { config })
  await app.register(dashboardRoutes, { config })
}
