import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import { redisPlugin, servicePlugin } from '@pulse/service-kit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { GatewayConfig } from './config.js'
import { PayloadTooLarge, RateLimited } from './errors.js'
import { createBatchedRedisStore } from './plugins/rate-limit-store.js'
import securityHeaders from './plugins/security-headers.js'
import sessions from './plugins/sessions.js'
import docsRoutes from './routes/docs.js'
import eventsRoutes from './routes/events.js'
import proxyRoutes from './routes/proxy.js'

export interface GatewayAppOptions {
  config: GatewayConfig
}

export default async function gatewayApp (app: FastifyInstance, { config }: GatewayAppOptions) {
  await app.register(servicePlugin, { prefix: 'GATEWAY', identitySecrets: [], verifyIdentity: false })
  await app.register(redisPlugin, { url: config.REDIS_URL, keyPrefix: config.REDIS_PREFIX })
  await app.register(securityHeaders, {
    contentSecurityPolicy: {
      directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'] }
    }
  })
  await app.register(cors, { origin: [config.FRONTEND_URL], credentials: true, exposedHeaders: ['x-request-id', 'retry-after'] })

  // Proxied bodies are streamed, not parsed, so Fastify's bodyLimit does not see them.
  app.addHook('onRequest', (request, _reply, done) => {
    const length = request.headers['content-length']
    done(length !== undefined && Number(length) > config.BODY_LIMIT_BYTES ? new PayloadTooLarge(config.BODY_LIMIT_BYTES) : undefined)
  })

  await app.register(sessions, { config })

  await app.register(rateLimit, {
    hook: 'preHandler',
    store: createBatchedRedisStore(app.redis, { syncMs: config.RATE_LIMIT_SYNC_MS, onError: (err) => app.log.warn({ err }, 'rate-limit sync failed') }),
    timeWindow: config.RATE_LIMIT_WINDOW_MS,
    keyGenerator: (request: FastifyRequest) => request.user !== null ? `user:${request.user.userId}` : `address:${request.ip}`,
    max: (_request: FastifyRequest, key: string) => key.startsWith('user:') ? config.RATE_LIMIT_PER_USER : config.RATE_LIMIT_PER_ADDRESS,
    // Limits must not take the API down with Redis; sessions fail closed on their own.
    skipOnError: true,
    allowList: (request: FastifyRequest) => request.url === '/health' || request.url === '/ready',
    errorResponseBuilder: (_request, context) => new RateLimited(Math.ceil(context.ttl / 1000))
  })

  await app.register(proxyRoutes, { config })
  await app.register(eventsRoutes, { config })
  await app.register(docsRoutes, { config })
}
