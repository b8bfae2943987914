// The type augmentations of the Fastify plugins the kit registers for every service: route schema
// `tags`/`summary`/`hide` (@fastify/swagger) and `app.redis` (@fastify/redis). The kit imports them
// for their effect at run time only, which declaration output drops; these directives keep them in
// dist/index.d.ts, so a service built against the compiled kit sees the same types as from source.
/// <reference types="@fastify/swagger" preserve="true" />
/// <reference types="@fastify/redis" preserve="true" />

export * from './client-address.js'
export * from './config.js'
export * from './cursor.js'
export * from './database.js'
export * from './http-errors.js'
export * from './identity.js'
export * from './metrics.js'
export * from './nats.js'
export * from './outbox/outbox.js'
export * from './redis.js'
export * from './request-reply.js'
export * from './run.js'
export * from './serve.js'
export * from './migration-step.js'
export * from './server-options.js'
export * from './user-data.js'
export * from './validation.js'
export * from './tracing.js'
export { default as databasePlugin } from './plugins/database.js'
export { metricsOf } from './plugins/metrics.js'
export { default as natsPlugin } from './plugins/nats.js'
export { default as outboxPlugin } from './plugins/outbox.js'
export { default as redisPlugin } from './plugins/redis.js'
export { default as servicePlugin, SESSION_SECURITY_SCHEME, serviceOptionsOf, type ServicePluginOptions, type ServiceSettings } from './plugins/service.js'
export { requireIdentity } from './plugins/identity.js'
export type { ReadinessCheck } from './plugins/health.js'
export * from './sessions.js'
