import { createHash } from 'node:crypto'
import {
  CONTACT_HONEYPOT_FIELD, ContactSubmissionBodySchema, ContactSubmissionHeadersSchema, ContactSubmissionListQuerySchema,
  ContactSubmissionListSchema, ContactSubmissionParamsSchema, ContactSubmissionReceiptSchema, ContactSubmissionUpdateSchema,
  ContactSubmissionUpdatedSchema, ContactSubmittedV1, ErrorResponseSchema, type ContactStatus, type ContactSubmission,
  type ContactSubmissionBody, type ContactSubmissionReceipt
} from '@pulse/contracts'
import { enqueueEvent } from '@pulse/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import { decodeCursor, encodeCursor } from '../cursor.js'
import type { Database, SubmissionRow } from '../db/database.js'
import {
  ContactIdempotencyKeyReusedError, ContactInvalidCursorError, ContactNotFoundError, ContactPageTooLargeError, ContactRateLimitedError
} from '../errors.js'
import { findSubmissionByIdempotencyKey, insertSubmission, listSubmissions, updateSubmissionStatus } from '../repositories/submissions.js'

export interface ContactRoutesOptions {
  pageSizeDefault: number
  pageSizeMax: number
}

/** What each error status means on these routes, for the API reference. */
const ERROR_MEANINGS: Record<number, string> = {
  400: 'Invalid input; the message names the field',
  401: 'Not logged in',
  403: 'Admins only',
  404: 'No such message',
  413: 'Body too large',
  415: 'The body is not JSON',
  422: 'This Idempotency-Key was used for a different message',
  429: 'Too many messages from this address; retry after `retry-after` seconds',
  500: 'Something went wrong on our side',
  503: 'Storage is unavailable; nothing was stored; retry after `retry-after` seconds'
}
const errors = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, { ...ErrorResponseSchema, description: ERROR_MEANINGS[code] }]))

function toSubmission (row: SubmissionRow): ContactSubmission {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    subject: row.subject,
    message: row.message,
    status: row.status,
    honeypotFilled: row.honeypot_filled,
    clientIp: row.client_ip,
    userId: row.user_id,
    receivedAt: row.received_at.toISOString(),
    updatedAt: row.updated_at.toISOString()
  }
}

const toReceipt = (row: SubmissionRow): ContactSubmissionReceipt => ({ id: row.id, receivedAt: row.received_at.toISOString() })

/** What the client sent, so that a reused Idempotency-Key with another message is noticed. */
function fingerprint (body: ContactSubmissionBody): string {
  const { name, email, subject, message } = body
  return createHash('sha256').update(JSON.stringify([name, email, subject ?? null, message, body[CONTACT_HONEYPOT_FIELD] ?? null])).digest('hex')
}

/** A replayed key answers the first receipt, unless it comes with a different message. */
function replay (row: SubmissionRow, body: ContactSubmissionBody): ContactSubmissionReceipt {
  if (row.request_fingerprint !== fingerprint(body)) throw new ContactIdempotencyKeyReusedError()
  return toReceipt(row)
}

export default async function contactRoutes (fastify: FastifyInstance, { pageSizeDefault, pageSizeMax }: ContactRoutesOptions) {
  // Every route's request and reply types come from its schema.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const db = app.db as Kysely<Database>

  app.post('/contact', {
    config: { public: true },
    schema: {
      summary: 'Write to the team',
      description: 'No login needed. Answers 202 once the message is stored. Rate-limited per client address (429 with retry-after). ' +
        'Send an Idempotency-Key to retry safely: the same key answers the first receipt and stores nothing new.',
      tags: ['contact'],
      security: [],
      headers: ContactSubmissionHeadersSchema,
      body: ContactSubmissionBodySchema,
      response: { 202: { ...ContactSubmissionReceiptSchema, description: 'The message is stored' }, ...errors(400, 413, 415, 422, 429, 500, 503) }
    }
  }, async (request, reply) => {
    const body = request.body
    const key = request.headers['idempotency-key']
    // A retry of a stored message is answered before the limiter (and the limiter counts a key once):
    // retrying must not use up the budget.
    if (key !== undefined) {
      const existing = await findSubmissionByIdempotencyKey(db, key)
      if (existing !== undefined) return reply.code(202).send(replay(existing, body))
    }

    const decision = await app.rateLimiter.hit(request.clientIp, key, request.log)
    if (decision.outcome === 'limited') {
      void reply.header('retry-after', String(decision.retryAfterSeconds))
      throw new ContactRateLimitedError(decision.retryAfterSeconds)
    }

    const honeypot = body[CONTACT_HONEYPOT_FIELD]
    const spam = honeypot !== undefined && honeypot.trim() !== ''
    const subject = body.subject?.trim()
    const { row, created } = await db.transaction().execute(async (trx) => {
      const inserted = await insertSubmission(trx, {
        name: body.name.trim(),
        email: body.email,
        subject: subject === undefined || subject === '' ? null : subject,
        message: body.message,
        status: spam ? 'spam' : 'new',
        honeypot_filled: spam,
        client_ip: request.clientIp,
        user_id: request.identity?.userId ?? null,
        idempotency_key: key ?? null,
        request_fingerprint: key === undefined ? null : fingerprint(body)
      })
      if (inserted === undefined) {
        // A concurrent request with the same key committed first: answer its receipt.
        const first = await findSubmissionByIdempotencyKey(trx, key!)
        if (first === undefined) throw new Error('idempotency key conflict without a row')
        return { row: first, created: false }
      }
      await enqueueEvent(trx, ContactSubmittedV1, { id: inserted.id, receivedAt: inserted.received_at.toISOString(), spam })
      return { row: inserted, created: true }
    })
    if (!created) return reply.code(202).send(replay(row, body))
    app.outbox.wake()
    if (spam) request.log.info({ submissionId: row.id }, 'contact message stored as spam (honeypot filled)')
    return reply.code(202).send(toReceipt(row))
  })

  app.get('/contact', {
    onRequest: app.requireRole('admin'),
    schema: {
      summary: 'List contact messages (admins)',
      description: 'Newest first, optionally of one status; paginated with an opaque cursor.',
      tags: ['contact'],
      querystring: ContactSubmissionListQuerySchema,
      response: { 200: { ...ContactSubmissionListSchema, description: 'A page of messages, newest first' }, ...errors(400, 401, 403, 500, 503) }
    }
  }, async (request) => {
    const { status, cursor, limit = pageSizeDefault } = request.query
    if (limit > pageSizeMax) throw new ContactPageTooLargeError(pageSizeMax)
    const after = cursor === undefined ? undefined : decodeCursor(cursor)
    if (cursor !== undefined && after === undefined) throw new ContactInvalidCursorError()
    const rows = await listSubmissions(db, { status, after, limit })
    const page = rows.slice(0, limit)
    const last = page.at(-1)
    return {
      items: page.map(toSubmission),
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor({ receivedAt: last.position, id: last.id }) : null
    }
  })

  app.patch('/contact/:id', {
    onRequest: app.requireRole('admin'),
    schema: {
      summary: 'Triage a contact message (admins)',
      description: 'Moves a message between new, read, archived and spam.',
      tags: ['contact'],
      params: ContactSubmissionParamsSchema,
      body: ContactSubmissionUpdateSchema,
      response: { 200: { ...ContactSubmissionUpdatedSchema, description: 'The message with its new status' }, ...errors(400, 401, 403, 404, 413, 415, 500, 503) }
    }
  }, async (request) => {
    const status: ContactStatus = request.body.status
    const row = await updateSubmissionStatus(db, request.params.id, status)
    if (row === undefined) throw new ContactNotFoundError()
    request.log.info({ submissionId: row.id, status, by: request.identity?.userId }, 'contact message status set')
    return { submission: toSubmission(row) }
  })
}
