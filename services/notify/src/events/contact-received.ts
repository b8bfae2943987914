import { CONTACT_STREAM, ContactSubmittedV1, type EventPayload } from '@pulse/contracts'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { fanOut, sendCreated } from '../notifications.js'
import { askRecipients } from '../recipients.js'

/** The durable consumer every notify replica shares. */
export const CONTACT_CONSUMER = 'notify-contact'

/**
 * A contact message arrived (`contact.submitted.v1`, spam excluded): every admin is notified on their
 * enabled channels. The admins and their verified addresses come from auth; while auth cannot answer,
 * the event is redelivered later. The message itself stays in contact: the mail links to the inbox.
 */
export async function notifyContactMessages (app: FastifyInstance, { frontendUrl, recipientsTimeoutMs, wake }: { frontendUrl: string, recipientsTimeoutMs: number, wake: () => void }): Promise<void> {
  const db = app.db as Kysely<Database>
  // Postponements count as deliveries: 500 of at most a minute each keep a message waiting for auth for hours.
  await app.nats.consume([ContactSubmittedV1], { durable: CONTACT_CONSUMER, stream: CONTACT_STREAM, maxDeliver: 500 }, async (payload, _contract, ctx) => {
    const message = payload as EventPayload<typeof ContactSubmittedV1>
    if (message.spam) return
    let admins
    try {
      admins = await askRecipients(app.nats, { role: 'admin' }, recipientsTimeoutMs)
    } catch (error) {
      app.log.warn({ err: error, submissionId: message.id }, 'admins unknown for now; the notification waits')
      ctx.retryLater(Math.min(60_000, 1000 * 2 ** Math.min(ctx.redeliveryCount, 6)))
      return
    }
    const created = await fanOut(db, admins, {
      eventKey: `contact.submitted:${message.id}`,
      kind: 'contact.received',
      payload: {
        title: 'A new contact message arrived',
        body: 'Someone wrote to the team through the contact form. Read and answer it in the inbox.',
        url: new URL('/dashboard/admin/contact', frontendUrl).toString(),
        data: { submissionId: message.id, receivedAt: message.receivedAt },
        at: message.receivedAt
      }
    })
    sendCreated(app, wake, created)
  })
}
