import { AUTH_STREAM, CONTACT_STREAM, METRICS_STREAM, NOTIFY_STREAM } from '@pulse/contracts'
import { Mailer } from '@pulse/mail'
import { databaseOptionsOf, databasePlugin, natsPlugin, outboxPlugin, servicePlugin } from '@pulse/service-kit'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import { cidrsOf, type NotifyConfig } from './config.js'
import { NOTIFY_SCHEMA, type Database } from './db/database.js'
import { DeliveryWorker } from './deliveries/worker.js'
import { registerNotifyMetrics } from './metrics.js'
import { ReminderScheduler } from './reminders.js'
import { notifyAudienceChanges } from './events/audience.js'
import { notifyBrokenConnections } from './events/connection-broken.js'
import { notifyContactMessages } from './events/contact-received.js'
import { consumeUserDeletions } from './events/user-deleted.js'
import moodReminderRoutes from './routes/mood-reminder.js'
import settingsRoutes from './routes/settings.js'
import webhookRoutes from './routes/webhooks.js'
import type { AddressPolicy } from './webhooks/address-policy.js'

export interface NotifyAppOptions {
  config: NotifyConfig
  /** How webhook host names are resolved (tests give names of their own). */
  resolve?: AddressPolicy['resolve']
  /** The clock of the mood reminders, milliseconds since the epoch (tests move it across days and DST changes). */
  now?: () => number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Sends the pending mail and webhook deliveries (every replica runs one). */
    deliveries: DeliveryWorker
    /** Sends the daily mood reminders (every replica runs one; each reminder goes out once). */
    reminders: ReminderScheduler
  }
}

const DAY_MS = 24 * 60 * 60 * 1000

/** The notify service as a plugin: the kit, Postgres, NATS and its outbox, the routes, the consumers, the delivery worker. */
export default async function app (fastify: FastifyInstance, { config, resolve, now = Date.now }: NotifyAppOptions) {
  const identitySecrets = [config.IDENTITY_SECRET, ...(config.IDENTITY_SECRET_PREVIOUS === undefined ? [] : [config.IDENTITY_SECRET_PREVIOUS])]
  await fastify.register(servicePlugin, {
    prefix: 'NOTIFY',
    audience: 'notify',
    identitySecrets,
    testProbes: config.TEST_PROBES,
    metrics: config.METRICS_PORT !== undefined,
    openapi: { title: 'Pulse notify', description: 'Notifications: settings per kind and channel, webhook endpoints and their delivery log.' }
  })
  await fastify.register(databasePlugin, databaseOptionsOf(config, NOTIFY_SCHEMA))
  await fastify.register(natsPlugin, { url: config.NATS_URL, name: 'notify', prefix: config.NATS_PREFIX, streams: [NOTIFY_STREAM, CONTACT_STREAM, AUTH_STREAM, METRICS_STREAM], streamReplicas: config.NATS_STREAM_REPLICAS })
  await fastify.register(outboxPlugin, { service: 'notify', pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS })

  const policy: AddressPolicy = { allowPrivate: config.NOTIFY_WEBHOOKS_ALLOW_PRIVATE, allowedCidrs: cidrsOf(config.NOTIFY_WEBHOOKS_ALLOWED_CIDRS), ...(resolve !== undefined ? { resolve } : {}) }
  const mailer = new Mailer({ url: config.SMTP_URL, from: config.MAIL_FROM, timeoutMs: config.MAIL_SMTP_TIMEOUT_MS })
  const worker = new DeliveryWorker({
    db: fastify.db as Kysely<Database>,
    bus: fastify.nats,
    mailer,
    policy,
    log: fastify.log,
    publicUrl: config.PUBLIC_URL,
    frontendUrl: config.FRONTEND_URL,
    linkSecret: config.NOTIFY_LINK_SECRET,
    webhookTimeoutMs: config.NOTIFY_WEBHOOK_TIMEOUT_MS,
    retryBaseMs: config.NOTIFY_RETRY_BASE_MS,
    retryMaxMs: config.NOTIFY_RETRY_MAX_MS,
    retryWindowMs: config.NOTIFY_RETRY_WINDOW_MS,
    disableAfterMs: config.NOTIFY_WEBHOOK_DISABLE_AFTER_MS,
    pollMs: config.NOTIFY_WORKER_POLL_MS,
    batch: config.NOTIFY_WORKER_BATCH,
    leaseMs: config.NOTIFY_CLAIM_LEASE_MS,
    recipientsTimeoutMs: config.NOTIFY_RECIPIENTS_TIMEOUT_MS,
    digestAfter: config.NOTIFY_DIGEST_AFTER,
    digestWindowMs: config.NOTIFY_DIGEST_WINDOW_MS,
    keepDeliveriesMs: config.NOTIFY_KEEP_DELIVERIES_MS
  })
  fastify.decorate('deliveries', worker)
  registerNotifyMetrics(fastify)
  const wake = () => { worker.wake() }

  await fastify.register(settingsRoutes, { linkSecret: config.NOTIFY_LINK_SECRET })
  await fastify.register(webhookRoutes, { policy, secretOverlapMs: DAY_MS, wake })
  await fastify.register(moodReminderRoutes)
  const reminders = new ReminderScheduler({
    db: fastify.db as Kysely<Database>, bus: fastify.nats, now, pollMs: config.NOTIFY_REMINDER_POLL_MS, timeoutMs: config.NOTIFY_RECIPIENTS_TIMEOUT_MS, frontendUrl: config.FRONTEND_URL, log: fastify.log, wake
  })
  fastify.decorate('reminders', reminders)

  fastify.addHook('onReady', async () => {
    const consumers = { frontendUrl: config.FRONTEND_URL, recipientsTimeoutMs: config.NOTIFY_RECIPIENTS_TIMEOUT_MS, wake }
    await notifyContactMessages(fastify, consumers)
    await notifyAudienceChanges(fastify, consumers)
    await notifyBrokenConnections(fastify, consumers)
    await consumeUserDeletions(fastify)
    worker.start()
    reminders.start()
  })
  fastify.addHook('preClose', async () => {
    await reminders.stop()
    await worker.stop()
  })
  fastify.addHook('onClose', async () => { mailer.close() })
}
