import type { NotificationKind } from '@pulse/contracts'
import { NOTIFICATION_KINDS } from '@pulse/contracts'
import type { Mailer } from '@pulse/mail'
import type { EventBus } from '@pulse/service-kit'
import { sql, type Kysely } from 'kysely'
import type { Database, DeliveryRow } from '../db/database.js'
import { digestMail, notificationMail } from '../mail/messages.js'
import { unsubscribeToken } from '../mail/unsubscribe.js'
import { askRecipients } from '../recipients.js'
import { disableFailingEndpoint, findEndpoint, markEndpointResult } from '../repositories/endpoints.js'
import type { AddressPolicy } from '../webhooks/address-policy.js'
import { sendWebhook } from '../webhooks/client.js'
import { signWebhook } from '../webhooks/signing.js'

export interface DeliveryWorkerOptions {
  db: Kysely<Database>
  bus: EventBus
  mailer: Mailer
  policy: AddressPolicy
  log: { info: (obj: object, msg: string) => void, warn: (obj: object, msg: string) => void }
  publicUrl: string
  frontendUrl: string
  linkSecret: string
  webhookTimeoutMs: number
  retryBaseMs: number
  retryMaxMs: number
  retryWindowMs: number
  disableAfterMs: number
  pollMs: number
  batch: number
  leaseMs: number
  recipientsTimeoutMs: number
  /** Mails of one kind to one user sent individually within the window before the rest wait for a digest. */
  digestAfter: number
  digestWindowMs: number
  /** Sent and failed deliveries (and their attempts) older than this are deleted, hourly. */
  keepDeliveriesMs: number
}

/**
 * One-click unsubscribe in the mail client (RFC 2369's `List-Unsubscribe` with RFC 8058's
 * `List-Unsubscribe-Post`): the client POSTs to the signed link, which notify accepts without a login.
 */
function unsubscribeHeaders (url: string | undefined): { headers?: Record<string, string> } {
  return url === undefined ? {} : { headers: { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } }
}

/** The delay before attempt `attempts + 1`: doubling from the base up to the maximum, with jitter (half to all of it) so receivers that come back are not hit by every sender at once. */
export function retryDelay (attempts: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30))
  return Math.round(ceiling / 2 + random() * ceiling / 2)
}

/**
 * Sends the pending mail and webhook deliveries. Every replica runs one: a worker claims due rows
 * (`next_attempt_at <= now()`) with FOR UPDATE SKIP LOCKED and moves their `next_attempt_at` a lease
 * ahead in the same statement, so two replicas never take one row, and a replica that dies holding
 * rows leaves them to be taken again when the lease ends. A failure sets the next attempt (backoff
 * with jitter) until the delivery is a day old; a webhook endpoint failing for a day is disabled and
 * its owner told by mail.
 */
export class DeliveryWorker {
  private running = false
  private loop: Promise<void> | undefined
  private wakeUp: (() => void) | undefined
  private woken = false
  private lastCleanup = 0

  constructor (private readonly options: DeliveryWorkerOptions) {}

  start (): void {
    if (this.running) return
    this.running = true
    this.loop = this.run()
  }

  async stop (): Promise<void> {
    this.running = false
    this.wake()
    await this.loop
  }

  /** Look for due deliveries now instead of at the next poll. */
  wake (): void {
    this.woken = true
    this.wakeUp?.()
  }

  private async run (): Promise<void> {
    while (this.running) {
      let handled = 0
      try {
        handled = await this.runOnce()
      } catch (error) {
        this.options.log.warn({ err: error }, 'delivery worker round failed; will retry')
      }
      if (handled > 0 || !this.running) continue
      if (this.woken) { this.woken = false; continue }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs)
        this.wakeUp = () => { clearTimeout(timer); resolve() }
      })
      this.wakeUp = undefined
      this.woken = false
    }
  }

  /** Claims and handles one batch of due deliveries (and sends the digests that are due); answers how many. */
  async runOnce (): Promise<number> {
    const { db, batch, leaseMs } = this.options
    await this.cleanUp()
    const digests = await this.sendDueDigests()
    const rows = await db.updateTable('deliveries')
      .set({ next_attempt_at: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})`, attempts: sql<number>`attempts + 1` })
      .where('id', 'in', (eb) => eb.selectFrom('deliveries').select('id')
        .where('status', '=', 'pending').where('next_attempt_at', '<=', sql<Date>`now()`)
        .orderBy('next_attempt_at').limit(batch).forUpdate().skipLocked())
      .returningAll().execute()
    // In parallel, except the mails of one kind to one user: one after another, so that the digest
    // rule counts the ones just sent.
    const lanes = new Map<string, DeliveryRow[]>()
    for (const row of rows) {
      const lane = row.channel === 'email' ? `mail:${row.user_id}:${row.kind}` : row.id
      lanes.set(lane, [...lanes.get(lane) ?? [], row])
    }
    await Promise.all([...lanes.values()].map(async (lane) => {
      for (const row of lane) {
        try {
          if (row.channel === 'email') await this.sendMail(row)
          else if (row.channel === 'webhook') await this.sendWebhook(row)
          else await this.finish(row, 'sent', null)
        } catch (error) {
          // The database failed mid-way: the lease brings the row back.
          this.options.log.warn({ err: error, deliveryId: row.id }, 'delivery not handled; will retry')
        }
      }
    }))
    return rows.length + digests
  }

  /**
   * Finished deliveries are kept `keepDeliveriesMs` (30 days): long after JetStream's streams (7 days)
   * could redeliver the event they came from, so their keys still stop a second send until then.
   */
  private async cleanUp (): Promise<void> {
    if (Date.now() - this.lastCleanup < 60 * 60 * 1000) return
    this.lastCleanup = Date.now()
    const { db, keepDeliveriesMs } = this.options
    await db.deleteFrom('deliveries').where('status', 'in', ['sent', 'failed'])
      .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${keepDeliveriesMs / 1000})`).execute()
    await db.deleteFrom('reminders_sent').where('at', '<', sql<Date>`now() - make_interval(secs => ${keepDeliveriesMs / 1000})`).execute()
  }

  private unsubscribeUrl (userId: string, kind: string): string | undefined {
    const { publicUrl, linkSecret } = this.options
    return (NOTIFICATION_KINDS as readonly string[]).includes(kind)
      ? new URL(`/notify/unsubscribe?token=${encodeURIComponent(unsubscribeToken(linkSecret, userId, kind as NotificationKind))}`, publicUrl).toString()
      : undefined
  }

  /**
   * A flood becomes a digest: once `digestAfter` mails of one kind went to a user within
   * `digestWindowMs`, the next ones are held until the window has passed and then go out as one mail.
   */
  private async holdForDigest (row: DeliveryRow): Promise<boolean> {
    const { db, digestAfter, digestWindowMs } = this.options
    const windowSecs = digestWindowMs / 1000
    const recent = await db.selectFrom('deliveries').select(sql<number>`count(*)::int`.as('n'))
      .where('user_id', '=', row.user_id).where('kind', '=', row.kind).where('channel', '=', 'email').where('status', '=', 'sent')
      .where('sent_at', '>', sql<Date>`now() - make_interval(secs => ${windowSecs})`).executeTakeFirstOrThrow()
    if (recent.n < digestAfter) return false
    // Held with the others already waiting (their time), or until the window ends for the first.
    await db.updateTable('deliveries').set({
      status: 'held',
      attempts: sql<number>`attempts - 1`,
      next_attempt_at: sql<Date>`coalesce((select min(next_attempt_at) from deliveries h where h.user_id = ${row.user_id} and h.kind = ${row.kind} and h.status = 'held'), now() + make_interval(secs => ${windowSecs}))`
    }).where('id', '=', row.id).execute()
    return true
  }

  /** Sends every held group whose time has come as one mail (one replica per group: its rows are locked while it sends). */
  private async sendDueDigests (): Promise<number> {
    const { db, mailer, retryBaseMs, retryMaxMs } = this.options
    const groups = await db.selectFrom('deliveries').select(['user_id', 'kind']).distinct()
      .where('status', '=', 'held').where('next_attempt_at', '<=', sql<Date>`now()`).limit(50).execute()
    let sent = 0
    for (const group of groups) {
      await db.transaction().execute(async (trx) => {
        const rows = await trx.selectFrom('deliveries').selectAll()
          .where('user_id', '=', group.user_id).where('kind', '=', group.kind).where('status', '=', 'held').where('next_attempt_at', '<=', sql<Date>`now()`)
          .orderBy('created_at').forUpdate().skipLocked().execute()
        const first = rows[0]
        if (first === undefined || first.recipient === null) return
        const unsubscribe = this.unsubscribeUrl(group.user_id, group.kind)
        const mail = digestMail(group.kind, rows.map((r) => r.payload), unsubscribe)
        try {
          await mailer.send({ to: first.recipient, ...mail, messageId: `<${first.id}.digest@notify.pulse>`, ...unsubscribeHeaders(unsubscribe) })
        } catch (error) {
          const delay = retryDelay(first.attempts + 1, retryBaseMs, retryMaxMs)
          await trx.updateTable('deliveries').set({ attempts: sql<number>`attempts + 1`, last_error: `digest not sent: ${(error as Error).message}`.slice(0, 500), next_attempt_at: new Date(Date.now() + delay) })
            .where('id', 'in', rows.map((r) => r.id)).execute()
          return
        }
        await trx.updateTable('deliveries').set({ status: 'sent', sent_at: sql<Date>`now()`, next_attempt_at: null, last_error: null })
          .where('id', 'in', rows.map((r) => r.id)).execute()
        sent += rows.length
        this.options.log.info({ userId: group.user_id, kind: group.kind, notifications: rows.length }, 'digest mail sent')
      })
    }
    return sent
  }

  private async finish (row: DeliveryRow, status: 'sent' | 'failed', error: string | null): Promise<void> {
    await this.options.db.updateTable('deliveries')
      .set({ status, last_error: error, next_attempt_at: null, ...(status === 'sent' ? { sent_at: sql<Date>`now()` } : {}) })
      .where('id', '=', row.id).execute()
  }

  /** Another attempt later, or none when the delivery is older than the retry window. */
  private async failed (row: DeliveryRow, error: string): Promise<void> {
    const { db, retryBaseMs, retryMaxMs, retryWindowMs } = this.options
    if (Date.now() - row.created_at.getTime() >= retryWindowMs) {
      await this.finish(row, 'failed', `given up: ${error}`)
      this.options.log.warn({ deliveryId: row.id, channel: row.channel, attempts: row.attempts, error }, 'delivery given up')
      return
    }
    const delay = retryDelay(row.attempts, retryBaseMs, retryMaxMs)
    await db.updateTable('deliveries').set({ last_error: error, next_attempt_at: new Date(Date.now() + delay) }).where('id', '=', row.id).execute()
    this.options.log.info({ deliveryId: row.id, channel: row.channel, attempts: row.attempts, retryInMs: delay }, 'delivery failed; will retry')
  }

  private async sendMail (row: DeliveryRow): Promise<void> {
    const { db, bus, mailer, recipientsTimeoutMs } = this.options
    let address = row.recipient
    if (address === null) {
      // Mails decided here (an endpoint disabled) learn the owner's verified address when sent.
      const [owner] = await askRecipients(bus, { userIds: [row.user_id] }, recipientsTimeoutMs).catch(() => [undefined])
      if (owner === undefined) { await this.failed(row, 'auth did not name the recipient'); return }
      if (owner.email === null) { await this.finish(row, 'failed', 'the user has no verified address'); return }
      address = owner.email
      await db.updateTable('deliveries').set({ recipient: address }).where('id', '=', row.id).execute()
    }
    if (await this.holdForDigest(row)) return
    const unsubscribe = this.unsubscribeUrl(row.user_id, row.kind)
    const mail = notificationMail(row.kind, row.payload, unsubscribe)
    try {
      await mailer.send({ to: address, ...mail, messageId: `<${row.id}@notify.pulse>`, ...unsubscribeHeaders(unsubscribe) })
    } catch (error) {
      // The SMTP server's answer, never the address or the body.
      await this.failed(row, `mail not sent: ${(error as Error).message}`.slice(0, 500))
      return
    }
    await this.finish(row, 'sent', null)
    this.options.log.info({ deliveryId: row.id, kind: row.kind }, 'mail sent')
  }

  private async sendWebhook (row: DeliveryRow): Promise<void> {
    const { db, policy, webhookTimeoutMs, disableAfterMs } = this.options
    const endpoint = row.endpoint_id === null ? undefined : await findEndpoint(db, row.endpoint_id)
    if (endpoint === undefined || !endpoint.enabled) { await this.finish(row, 'failed', 'the endpoint is disabled'); return }
    const { title, body, url, data, at } = row.payload
    const message = JSON.stringify({ type: row.kind, timestamp: at, data: { ...data, title, body, ...(url !== undefined ? { url } : {}) } })
    const messageId = `msg_${row.id}`
    const timestamp = Math.floor(Date.now() / 1000)
    const secrets = [endpoint.secret, ...(endpoint.previous_secret !== null && endpoint.previous_secret_until !== null && endpoint.previous_secret_until > new Date() ? [endpoint.previous_secret] : [])]
    const result = await sendWebhook(endpoint.url, message, {
      'webhook-id': messageId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(secrets, messageId, timestamp, message)
    }, { policy, timeoutMs: webhookTimeoutMs })
    await db.insertInto('delivery_attempts').values({ delivery_id: row.id, attempt: row.attempts, status_code: result.statusCode, latency_ms: result.latencyMs, error: result.error }).execute()
    await markEndpointResult(db, endpoint.id, result.ok)
    if (result.ok) { await this.finish(row, 'sent', null); return }
    await this.failed(row, result.error ?? 'failed')
    const disabled = await disableFailingEndpoint(db, endpoint.id, disableAfterMs)
    if (disabled !== undefined) await this.disabled(disabled.id, disabled.user_id, disabled.url, disabled.failing_since!)
  }

  /** The endpoint was just disabled (by this replica only): its waiting deliveries end, and its owner gets one mail. */
  private async disabled (endpointId: string, userId: string, url: string, failingSince: Date): Promise<void> {
    const { db, frontendUrl } = this.options
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('deliveries').set({ status: 'failed', next_attempt_at: null, last_error: 'the endpoint was disabled' })
        .where('endpoint_id', '=', endpointId).where('status', '=', 'pending').execute()
      await trx.insertInto('deliveries').values({
        event_key: `webhook-disabled:${endpointId}:${failingSince.toISOString()}`,
        kind: 'webhook.disabled',
        user_id: userId,
        channel: 'email',
        target: 'email',
        recipient: null,
        next_attempt_at: new Date(),
        payload: JSON.stringify({
          title: 'A webhook endpoint of yours was disabled',
          body: `Every delivery to ${url} failed since ${failingSince.toISOString()}, so Pulse stopped sending to it.\n\n` +
            'Check that the receiver answers 2xx to POST requests, then enable the endpoint again in your notification settings; ' +
            'you can send it a test event from there.',
          url: new URL('/dashboard/settings', frontendUrl).toString(),
          data: { endpointId },
          at: new Date().toISOString()
        })
      }).onConflict((oc) => oc.constraint('deliveries_once').doNothing()).execute()
    })
    this.options.log.warn({ endpointId, userId, failingSince }, 'webhook endpoint disabled after failing for a day')
    this.wake()
  }
}
