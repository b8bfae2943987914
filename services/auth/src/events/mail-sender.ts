import { AUTH_STREAM, ExportReadyV1, MailQueuedV1, type EventPayload } from '@pulse/contracts'
import type { Mailer } from '@pulse/mail'
import type { FastifyInstance } from 'fastify'
import { exportReadyMail } from '../mail/messages.js'
import { countMailAttempt, findMail, markMailSent, storeMailOnce } from '../repositories/mails.js'
import { findUserById } from '../repositories/users.js'

export interface MailSenderOptions {
  mailer: Mailer
  frontendUrl: string
  retryBaseMs: number
  retryMaxMs: number
  maxDeliver: number
  smtpTimeoutMs: number
}

/** The durable consumer every auth replica shares: each mail is sent by one of them. */
export const MAIL_CONSUMER = 'auth-mail'

/**
 * Sends the mails auth queued (`auth.mail.queued.v1`, the id of a `mails` row) and the "your export
 * is ready" mail (`auth.export.ready.v1`, to a verified address only). A mail is marked sent and its
 * body cleared after the SMTP server took it; an SMTP server that is down or refuses it gets the mail
 * again later, the delay doubling from MAIL_RETRY_BASE_MS to MAIL_RETRY_MAX_MS, up to
 * MAIL_MAX_DELIVER attempts: a mail is delayed, never lost. A redelivered event of a mail already sent
 * sends nothing.
 */
export async function sendQueuedMails (app: FastifyInstance, options: MailSenderOptions): Promise<void> {
  const delayAfter = (deliveries: number) => Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.min(deliveries - 1, 20))

  async function deliver (mailId: string, deliveries: number, retryLater: (ms: number) => void): Promise<void> {
    const mail = await findMail(app.db, mailId)
    if (mail === undefined || mail.sent_at !== null || mail.text_body === null) return
    await countMailAttempt(app.db, mailId)
    try {
      await options.mailer.send({ to: mail.to_address, subject: mail.subject, text: mail.text_body, html: mail.html_body ?? '', messageId: `<${mail.id}@pulse>` })
    } catch (error) {
      const delay = delayAfter(deliveries)
      // The address and the SMTP server's answer, never the body (it may hold a link's secret).
      app.log.warn({ mailId, kind: mail.kind, err: { message: (error as Error).message }, retryInMs: delay }, 'mail not sent; will retry')
      retryLater(delay)
      return
    }
    await markMailSent(app.db, mailId)
    app.log.info({ mailId, kind: mail.kind }, 'mail sent')
  }

  await app.nats.consume([MailQueuedV1, ExportReadyV1], {
    durable: MAIL_CONSUMER,
    stream: AUTH_STREAM,
    maxDeliver: options.maxDeliver,
    // A send may wait for each of connect, greeting and the message itself.
    ackWaitMs: 4 * options.smtpTimeoutMs
  }, async (payload, contract, ctx) => {
    if (contract === MailQueuedV1) {
      await deliver((payload as EventPayload<typeof MailQueuedV1>).mailId, ctx.redeliveryCount, ctx.retryLater)
      return
    }
    const ready = payload as EventPayload<typeof ExportReadyV1>
    const user = await findUserById(app.db, ready.userId)
    if (user === undefined || user.email === null || user.email_verified_at === null) return
    const mailId = await storeMailOnce(app.db, {
      userId: user.id,
      kind: 'export_ready',
      dedupeKey: `export-ready:${ready.exportId}`,
      to: user.email,
      mail: exportReadyMail(user.display_name, new URL('/dashboard/settings', options.frontendUrl).toString(), ready.expiresAt)
    })
    await deliver(mailId, ctx.redeliveryCount, ctx.retryLater)
  })
}
