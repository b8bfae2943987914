import nodemailer, { type Transporter } from 'nodemailer'

export interface MailerOptions {
  /** `smtp://[user:password@]host:port` or `smtps://…` (see MailConfigProperties). */
  url: string
  from: string
  /** Connection, greeting and socket timeout (nodemailer's defaults are minutes). */
  timeoutMs?: number
}

export interface OutgoingMail {
  to: string
  subject: string
  text: string
  html: string
  /**
   * A stable Message-ID (`<id@host>`): a mail sent twice after a crash between sending and recording
   * it carries the same id, which mail clients use to show it once.
   */
  messageId?: string
  /** Extra header lines, e.g. `List-Unsubscribe` (RFC 2369) and `List-Unsubscribe-Post` (RFC 8058). */
  headers?: Record<string, string>
}

/**
 * Sends mail over SMTP with nodemailer. One pooled-free transport per mailer: every send opens its
 * own connection, so an SMTP server that restarts is simply reached again at the next send.
 */
export class Mailer {
  private readonly transport: Transporter

  constructor (private readonly options: MailerOptions) {
    const timeout = options.timeoutMs ?? 10_000
    this.transport = nodemailer.createTransport({
      url: options.url,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout
    } as Parameters<typeof nodemailer.createTransport>[0])
  }

  /** Sends one mail; rejects when the server cannot be reached or refuses it (the caller retries). */
  async send (mail: OutgoingMail): Promise<void> {
    await this.transport.sendMail({
      from: this.options.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      ...(mail.messageId !== undefined ? { messageId: mail.messageId } : {}),
      ...(mail.headers !== undefined ? { headers: mail.headers } : {})
    })
  }

  close (): void {
    this.transport.close()
  }
}
