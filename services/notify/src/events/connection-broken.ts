import { AUTH_STREAM, ConnectionInvalidatedV1, type EventPayload } from '@pulse/contracts'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { fanOut, sendCreated } from '../notifications.js'
import { askRecipients } from '../recipients.js'

const PROVIDER_NAMES: Record<string, string> = { twitch: 'Twitch', twitter: 'X' }

/**
 * A provider connection stopped working (`auth.connection.invalidated.v1`: revoked at the provider,
 * or its refresh failed): the user is told what happened and what to do, once per invalidation.
 */
export async function notifyBrokenConnections (app: FastifyInstance, { frontendUrl, recipientsTimeoutMs, wake }: { frontendUrl: string, recipientsTimeoutMs: number, wake: () => void }): Promise<void> {
  const db = app.db as Kysely<Database>
  await app.nats.consume([ConnectionInvalidatedV1], { durable: 'notify-connections', stream: AUTH_STREAM, maxDeliver: 500 }, async (payload, _contract, ctx) => {
    const event = payload as EventPayload<typeof ConnectionInvalidatedV1>
    let recipients
    try {
      recipients = await askRecipients(app.nats, { userIds: [event.userId] }, recipientsTimeoutMs)
    } catch (error) {
      app.log.warn({ err: error, userId: event.userId }, 'recipient unknown for now; the notification waits')
      ctx.retryLater(Math.min(60_000, 1000 * 2 ** Math.min(ctx.redeliveryCount, 6)))
      return
    }
    const name = PROVIDER_NAMES[event.provider] ?? event.provider
    const revoked = event.reason.includes('revoked')
    const created = await fanOut(db, recipients, {
      eventKey: `connection.invalidated:${event.provider}:${event.invalidatedAt}`,
      kind: 'connection.broken',
      payload: {
        title: `Your ${name} connection stopped working`,
        body: (revoked
          ? `Pulse's access to your ${name} account was taken back at ${name}.`
          : `${name} no longer accepts Pulse's access to your account (${event.reason}).`) +
          `\n\nYour ${name} numbers are not updated until you connect ${name} again: open your settings and choose "Connect ${name}".`,
        url: new URL('/dashboard/settings', frontendUrl).toString(),
        data: { provider: event.provider, reason: event.reason },
        at: event.invalidatedAt
      }
    })
    sendCreated(app, wake, created)
  })
}
