import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ErrorResponseSchema, TWITCH_WEBHOOK_REQUIRED_HEADERS, TwitchEventSubMessageV1, TwitchWebhookHeadersSchema } from '@pulse/contracts'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import Type from 'typebox'
import type { Database } from '../db/database.js'
import { TwitchErrors } from '../errors.js'
import { signatureMatches } from '../eventsub/signature.js'

export interface WebhookRoutesOptions {
  /** Undefined when EventSub is off: every message is refused (404). */
  secret: string | undefined
  maxAgeMs: number
}

const ERROR_MEANINGS: Record<number, string> = {
  400: 'A header is missing or malformed (the message names it), or a signed body is not an EventSub message',
  403: 'The signature does not match (TWITCH_WEBHOOK_SIGNATURE), the timestamp is too old (TWITCH_WEBHOOK_STALE) or the message id was already received (TWITCH_WEBHOOK_REPLAYED)',
  404: 'EventSub is not enabled on this deployment',
  503: 'The message could not be taken now; Twitch retries it'
}
const errors = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, { ...ErrorResponseSchema, description: ERROR_MEANINGS[code] }]))

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The EventSub callback (docs/providers.md §1.5), public and reached through the gateway's
 * `/webhooks/` prefix. The signature is checked on the raw bytes before anything is parsed; then
 * the age and the first sight of the message id. A verified notification is handed to JetStream
 * and acknowledged at once: the durable consumer applies it (eventsub/apply.ts), once, on any replica.
 */
export default async function webhookRoutes (fastify: FastifyInstance, { secret, maxAgeMs }: WebhookRoutesOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const db = app.db as Kysely<Database>

  // In this plugin only: the body stays the bytes Twitch signed.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })

  app.post('/webhooks/twitch', {
    config: { public: true },
    schema: {
      summary: 'Twitch EventSub callback',
      description: 'Where Twitch posts EventSub messages (webhook transport). Every message is signed with the ' +
        'deployment\'s TWITCH_EVENTSUB_SECRET: `Twitch-Eventsub-Message-Signature` = `sha256=` + HMAC-SHA256(secret, ' +
        'message id + timestamp + raw body). A challenge (`webhook_callback_verification`) is answered with the challenge ' +
        'as text/plain; a notification or revocation with 204 once it is safely queued. Messages older than ' +
        'TWITCH_EVENTSUB_MAX_AGE_S and message ids seen before are refused.',
      tags: ['twitch'],
      headers: TwitchWebhookHeadersSchema,
      response: {
        200: Type.String({ description: 'The challenge, as text/plain' }),
        204: Type.Null({ description: 'The message is taken' }),
        ...errors(400, 403, 404, 503)
      }
    }
  }, async (request, reply) => {
    if (secret === undefined) throw new TwitchErrors.WebhookDisabled()
    const missing = TWITCH_WEBHOOK_REQUIRED_HEADERS.find((name) => request.headers[name] === undefined)
    if (missing !== undefined) throw new TwitchErrors.WebhookHeader(missing)
    const headers = request.headers as Required<typeof request.headers>
    const messageId = headers['twitch-eventsub-message-id']
    const timestamp = headers['twitch-eventsub-message-timestamp']
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    if (!signatureMatches(secret, messageId, timestamp, raw, headers['twitch-eventsub-message-signature'])) {
      request.log.warn({ messageId }, 'eventsub message with a wrong signature refused')
      throw new TwitchErrors.WebhookSignature()
    }
    // Twitch's own clock against ours: real time, not any simulated clock.
    const sentAt = Date.parse(timestamp)
    if (Number.isNaN(sentAt)) throw new TwitchErrors.WebhookStale('not a time')
    if (Math.abs(Date.now() - sentAt) > maxAgeMs) throw new TwitchErrors.WebhookStale(`more than ${maxAgeMs / 1000} s away from now`)

    let body: unknown
    try {
      body = JSON.parse(raw.toString('utf8'))
    } catch {
      throw new TwitchErrors.WebhookBody('not JSON')
    }
    if (!isObject(body) || !isObject(body.subscription)) throw new TwitchErrors.WebhookBody('subscription is missing')

    const type = headers['twitch-eventsub-message-type']
    if (type === 'webhook_callback_verification') {
      if (typeof body.challenge !== 'string' || body.challenge === '') throw new TwitchErrors.WebhookBody('challenge is missing')
      request.log.info({ subscriptionType: headers['twitch-eventsub-subscription-type'] }, 'eventsub subscription verified')
      return reply.code(200).type('text/plain; charset=utf-8').send(body.challenge)
    }
    if (type === 'notification' && !isObject(body.event)) throw new TwitchErrors.WebhookBody('event is missing')

    // First sight of the id, across every replica: the primary key decides.
    const taken = await db.insertInto('eventsub_received').values({ message_id: messageId }).onConflict((c) => c.doNothing()).returning('message_id').executeTakeFirst()
    if (taken === undefined) throw new TwitchErrors.WebhookReplayed()
    try {
      await app.nats.publish(TwitchEventSubMessageV1, {
        messageId,
        messageType: type,
        subscriptionType: headers['twitch-eventsub-subscription-type'],
        subscriptionVersion: headers['twitch-eventsub-subscription-version'],
        sentAt: new Date(sentAt).toISOString(),
        body
      }, { msgID: `eventsub:${messageId}` })
    } catch (error) {
      // Not queued: forget the id, so that Twitch's retry of this message is taken.
      await db.deleteFrom('eventsub_received').where('message_id', '=', messageId).execute()
      request.log.warn({ err: error, messageId }, 'eventsub message could not be queued')
      throw new TwitchErrors.WebhookUnavailable()
    }
    return reply.code(204).send(null)
  })
}
