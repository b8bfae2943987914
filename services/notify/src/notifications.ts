import type { FastifyInstance } from 'fastify'
import { NotificationV1, type NotificationKind, type Recipient } from '@pulse/contracts'
import { enqueueEvent } from '@pulse/service-kit'
import type { Kysely, Transaction } from 'kysely'
import type { Database, DeliveryPayload } from './db/database.js'
import { effectiveChannels } from './kinds.js'
import { enabledEndpointsOf } from './repositories/endpoints.js'
import { listSettings } from './repositories/settings.js'

export interface Notification {
  /** What makes it one notification: a redelivered event or another replica uses the same key. */
  eventKey: string
  kind: NotificationKind
  payload: DeliveryPayload
}

/**
 * Turns one notification into deliveries, one per recipient and enabled channel (and endpoint), in
 * one transaction: a `deliveries` row each (unique on the event key, recipient, channel and target,
 * so a second fan-out of the same event inserts nothing), and for the live channel an outbox event
 * the gateway passes to the user's dashboards. Mail and webhook rows are sent by the delivery worker.
 * Answers how many rows were new.
 */
export async function fanOut (db: Kysely<Database>, recipients: readonly Recipient[], notification: Notification): Promise<number> {
  return await db.transaction().execute(async (trx) => await fanOutIn(trx, recipients, notification))
}

/** fanOut in the caller's transaction (with what decided that there is something to announce). */
export async function fanOutIn (trx: Transaction<Database>, recipients: readonly Recipient[], notification: Notification): Promise<number> {
  if (recipients.length === 0) return 0
  const userIds = recipients.map((r) => r.userId)
  const settings = await listSettings(trx, userIds)
  const endpoints = await enabledEndpointsOf(trx, userIds)
  let created = 0
  const payload = JSON.stringify(notification.payload)
  for (const recipient of recipients) {
    const channels = effectiveChannels(notification.kind, settings.filter((s) => s.user_id === recipient.userId))
    const base = { event_key: notification.eventKey, kind: notification.kind, user_id: recipient.userId, payload }
    const rows: Array<typeof base & { channel: 'email' | 'webhook' | 'live', target: string, endpoint_id?: string, recipient?: string | null, status?: 'sent', sent_at?: Date, next_attempt_at?: Date }> = []
    if (channels.email && recipient.email !== null) rows.push({ ...base, channel: 'email', target: 'email', recipient: recipient.email, next_attempt_at: new Date() })
    if (channels.webhook) {
      for (const endpoint of endpoints.filter((e) => e.user_id === recipient.userId)) {
        rows.push({ ...base, channel: 'webhook', target: endpoint.id, endpoint_id: endpoint.id, next_attempt_at: new Date() })
      }
    }
    if (channels.live) rows.push({ ...base, channel: 'live', target: 'live', status: 'sent', sent_at: new Date() })
    for (const row of rows) {
      const inserted = await trx.insertInto('deliveries').values(row)
        .onConflict((oc) => oc.constraint('deliveries_once').doNothing())
        .returning(['id']).executeTakeFirst()
      if (inserted === undefined) continue
      created++
      if (row.channel === 'live') {
        await enqueueEvent(trx, NotificationV1, {
          userId: recipient.userId, id: inserted.id, kind: notification.kind, title: notification.payload.title, body: notification.payload.body, at: notification.payload.at
        })
      }
    }
  }
  return created
}

/** After a fan-out that created something: the live notifications (outbox) and the deliveries (worker) go now, not at their next poll. */
export function sendCreated (app: FastifyInstance, wake: () => void, created: number): void {
  if (created === 0) return
  app.outbox.wake()
  wake()
}
