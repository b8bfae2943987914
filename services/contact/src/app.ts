import { AUTH_STREAM, CONTACT_STREAM } from '@pulse/contracts'
import { databaseOptionsOf, databasePlugin, natsPlugin, outboxPlugin, redisConnectionOf, serveUserData, serviceOptionsOf, servicePlugin } from '@pulse/service-kit'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { ContactConfig } from './config.js'
import { CONTACT_SCHEMA, type Database } from './db/database.js'
import { consumeUserDeletions } from './events/user-deleted.js'
import { pageUserSubmissions } from './repositories/account-data.js'
import rateLimiter from './plugins/rate-limiter.js'
import contactRoutes from './routes/contact.js'

export interface ContactAppOptions {
  config: ContactConfig
}

/** The contact service as a plugin: the kit, Postgres, NATS and its outbox, the limiter, the routes, the deletion consumer, the export responder. */
export default async function app (fastify: FastifyInstance, { config }: ContactAppOptions) {
  await fastify.register(servicePlugin, serviceOptionsOf(config, {
    prefix: 'CONTACT',
    audience: 'contact',
    openapi: { title: 'Pulse contact', description: 'The contact form: anyone writes to the team, admins read and triage.' }
  }))
  await fastify.register(databasePlugin, databaseOptionsOf(config, CONTACT_SCHEMA))
  await fastify.register(natsPlugin, { url: config.NATS_URL, name: 'contact', prefix: config.NATS_PREFIX, streams: [CONTACT_STREAM, AUTH_STREAM], streamReplicas: config.NATS_STREAM_REPLICAS })
  // Messages are taken while NATS is down (their events wait in the outbox), so a replica that
  // reaches Postgres stays ready: taking it out of rotation would refuse messages it can store.
  fastify.readiness.delete('nats')
  await fastify.register(outboxPlugin, { service: 'contact', pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS })
  await fastify.register(rateLimiter, {
    ...redisConnectionOf(config),
    keyPrefix: config.REDIS_PREFIX,
    timeoutMs: config.CONTACT_RATE_LIMIT_TIMEOUT_MS,
    max: config.CONTACT_RATE_LIMIT_MAX,
    windowMs: config.CONTACT_RATE_LIMIT_WINDOW_MS
  })
  await fastify.register(contactRoutes, { pageSizeDefault: config.CONTACT_PAGE_SIZE_DEFAULT, pageSizeMax: config.CONTACT_PAGE_SIZE_MAX })
  consumeUserDeletions(fastify)
  // 20 messages a page stay below NATS's 1 MB payload whatever their length and script.
  serveUserData(fastify, 'contact', async (userId, cursor) => await pageUserSubmissions(fastify.db as Kysely<Database>, userId, cursor, 20))
}
