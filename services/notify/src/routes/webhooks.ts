import Type from 'typebox'
import { randomUUID } from 'node:crypto'
import {
  NOTIFY_LIMITS, WebhookDeliveryListSchema, WebhookEndpointCreateSchema, WebhookEndpointListSchema, WebhookEndpointParamsSchema,
  WebhookEndpointSchema, WebhookEndpointUpdateSchema, WebhookEndpointWithSecretSchema, WebhookTestReceiptSchema, type WebhookEndpoint
} from '@pulse/contracts'
import { requireIdentity } from '@pulse/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database, EndpointRow } from '../db/database.js'
import { NotifyEndpointDisabledError, NotifyEndpointNotFoundError, NotifyTooManyEndpointsError, NotifyUrlRefusedError } from '../errors.js'
import {
  countEndpoints, deleteEndpoint, findOwnEndpoint, insertEndpoint, listEndpoints, rotateEndpointSecret, updateEndpoint
} from '../repositories/endpoints.js'
import { checkTarget, RefusedTargetError, type AddressPolicy } from '../webhooks/address-policy.js'
import { newWebhookSecret } from '../webhooks/signing.js'
import { errors } from './errors.js'

export interface WebhookRoutesOptions {
  policy: AddressPolicy
  /** How long the previous secret still signs after a rotation. */
  secretOverlapMs: number
  wake: () => void
}

function toEndpoint (row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    failingSince: row.failing_since?.toISOString() ?? null,
    createdAt: row.created_at.toISOString()
  }
}

export default async function webhookRoutes (fastify: FastifyInstance, { policy, secretOverlapMs, wake }: WebhookRoutesOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const db = app.db as Kysely<Database>

  /** The URL's form and (after DNS resolution) its addresses, before it is stored; checked again at every delivery. */
  const checkUrl = async (url: string): Promise<string> => {
    try {
      return (await checkTarget(url, policy)).toString()
    } catch (error) {
      if (error instanceof RefusedTargetError) throw new NotifyUrlRefusedError('body/url', error.message)
      throw error
    }
  }

  app.get('/notify/webhooks', {
    schema: {
      summary: 'Your webhook endpoints',
      tags: ['notify'],
      response: { 200: { ...WebhookEndpointListSchema, description: 'Oldest first; secrets are never listed' }, ...errors(401, 500, 503) }
    }
  }, async (request) => ({ items: (await listEndpoints(db, requireIdentity(request).userId)).map(toEndpoint) }))

  app.post('/notify/webhooks', {
    schema: {
      summary: 'Add a webhook endpoint',
      description: 'Notifications are POSTed to it signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`). ' +
        'The signing secret is in this answer only. The URL must be https and resolve to public addresses only.',
      tags: ['notify'],
      body: WebhookEndpointCreateSchema,
      response: { 201: { ...WebhookEndpointWithSecretSchema, description: 'The endpoint and its secret, shown this once' }, ...errors(400, 401, 409, 413, 415, 500, 503) }
    }
  }, async (request, reply) => {
    const { userId } = requireIdentity(request)
    const url = await checkUrl(request.body.url)
    if (await countEndpoints(db, userId) >= NOTIFY_LIMITS.endpointsPerUser) throw new NotifyTooManyEndpointsError(NOTIFY_LIMITS.endpointsPerUser)
    const secret = newWebhookSecret()
    const row = await insertEndpoint(db, { userId, url, description: request.body.description ?? null, secret })
    request.log.info({ endpointId: row.id }, 'webhook endpoint added')
    return reply.code(201).send({ endpoint: toEndpoint(row), secret })
  })

  app.get('/notify/webhooks/:id', {
    schema: {
      summary: 'One webhook endpoint',
      tags: ['notify'],
      params: WebhookEndpointParamsSchema,
      response: { 200: { ...WebhookEndpointSchema, description: 'The endpoint' }, ...errors(400, 401, 404, 500, 503) }
    }
  }, async (request) => {
    const row = await findOwnEndpoint(db, requireIdentity(request).userId, request.params.id)
    if (row === undefined) throw new NotifyEndpointNotFoundError()
    return toEndpoint(row)
  })

  app.patch('/notify/webhooks/:id', {
    schema: {
      summary: 'Change a webhook endpoint',
      description: 'A new URL, description, or `enabled`: enabling an endpoint that was disabled after a day of failures starts it afresh.',
      tags: ['notify'],
      params: WebhookEndpointParamsSchema,
      body: WebhookEndpointUpdateSchema,
      response: { 200: { ...WebhookEndpointSchema, description: 'The endpoint after the change' }, ...errors(400, 401, 404, 413, 415, 500, 503) }
    }
  }, async (request) => {
    const { userId } = requireIdentity(request)
    const { url, description, enabled } = request.body
    const row = await updateEndpoint(db, userId, request.params.id, {
      ...(url !== undefined ? { url: await checkUrl(url) } : {}), ...(description !== undefined ? { description } : {}), ...(enabled !== undefined ? { enabled } : {})
    })
    if (row === undefined) throw new NotifyEndpointNotFoundError()
    return toEndpoint(row)
  })

  app.delete('/notify/webhooks/:id', {
    schema: {
      summary: 'Remove a webhook endpoint',
      description: 'Its waiting deliveries and its delivery log go with it.',
      tags: ['notify'],
      params: WebhookEndpointParamsSchema,
      response: { 204: Type.Null({ description: 'Removed' }), ...errors(400, 401, 404, 500, 503) }
    }
  }, async (request, reply) => {
    if (!await deleteEndpoint(db, requireIdentity(request).userId, request.params.id)) throw new NotifyEndpointNotFoundError()
    return reply.code(204).send(null)
  })

  app.post('/notify/webhooks/:id/rotate-secret', {
    schema: {
      summary: 'Rotate a webhook endpoint\'s secret',
      description: 'A new secret, shown this once. For a day the messages carry two signatures (new and previous secret), so the receiver can switch without missing any.',
      tags: ['notify'],
      params: WebhookEndpointParamsSchema,
      response: { 200: { ...WebhookEndpointWithSecretSchema, description: 'The endpoint and its new secret, shown this once' }, ...errors(400, 401, 404, 500, 503) }
    }
  }, async (request) => {
    const secret = newWebhookSecret()
    const row = await rotateEndpointSecret(db, requireIdentity(request).userId, request.params.id, secret, new Date(Date.now() + secretOverlapMs))
    if (row === undefined) throw new NotifyEndpointNotFoundError()
    request.log.info({ endpointId: row.id }, 'webhook secret rotated')
    return { endpoint: toEndpoint(row), secret }
  })

  app.post('/notify/webhooks/:id/test', {
    schema: {
      summary: 'Send a test event to a webhook endpoint',
      description: 'Queues a `webhook.test` message, delivered (and retried) like any other; its outcome shows in the delivery log.',
      tags: ['notify'],
      params: WebhookEndpointParamsSchema,
      response: { 202: { ...WebhookTestReceiptSchema, description: 'The test delivery is queued' }, ...errors(400, 401, 404, 409, 500, 503) }
    }
  }, async (request, reply) => {
    const { userId } = requireIdentity(request)
    const endpoint = await findOwnEndpoint(db, userId, request.params.id)
    if (endpoint === undefined) throw new NotifyEndpointNotFoundError()
    if (!endpoint.enabled) throw new NotifyEndpointDisabledError()
    const at = new Date().toISOString()
    const row = await db.insertInto('deliveries').values({
      event_key: `webhook.test:${randomUUID()}`,
      kind: 'webhook.test',
      user_id: userId,
      channel: 'webhook',
      target: endpoint.id,
      endpoint_id: endpoint.id,
      next_attempt_at: new Date(),
      payload: JSON.stringify({ title: 'A test event from Pulse', body: 'This endpoint receives Pulse notifications.', data: {}, at })
    }).returning(['id']).executeTakeFirstOrThrow()
    wake()
    return reply.code(202).send({ deliveryId: row.id })
  })

  app.get('/notify/webhooks/:id/deliveries', {
    schema: {
      summary: 'A webhook endpoint\'s delivery log',
      description: `The last ${NOTIFY_LIMITS.deliveriesPerPage} deliveries, newest first, each with its attempts (status, latency).`,
      tags: ['notify'],
      params: WebhookEndpointParamsSchema,
      response: { 200: { ...WebhookDeliveryListSchema, description: 'Newest first' }, ...errors(400, 401, 404, 500, 503) }
    }
  }, async (request) => {
    const endpoint = await findOwnEndpoint(db, requireIdentity(request).userId, request.params.id)
    if (endpoint === undefined) throw new NotifyEndpointNotFoundError()
    const deliveries = await db.selectFrom('deliveries').select(['id', 'kind', 'status', 'next_attempt_at', 'created_at'])
      .where('endpoint_id', '=', endpoint.id).orderBy('created_at', 'desc').orderBy('id').limit(NOTIFY_LIMITS.deliveriesPerPage).execute()
    const attempts = deliveries.length === 0
      ? []
      : await db.selectFrom('delivery_attempts').selectAll().where('delivery_id', 'in', deliveries.map((d) => d.id)).orderBy('attempt').execute()
    return {
      items: deliveries.map((d) => ({
        id: d.id,
        messageId: `msg_${d.id}`,
        kind: d.kind,
        // Webhook deliveries are never held for a digest (only mails are).
        status: d.status === 'held' ? 'pending' as const : d.status,
        nextAttemptAt: d.status === 'pending' || d.status === 'held' ? d.next_attempt_at?.toISOString() ?? null : null,
        createdAt: d.created_at.toISOString(),
        attempts: attempts.filter((a) => a.delivery_id === d.id).map((a) => ({
          attempt: a.attempt, at: a.at.toISOString(), statusCode: a.status_code, latencyMs: a.latency_ms, error: a.error
        }))
      }))
    }
  })
}
