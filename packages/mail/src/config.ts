import Type from 'typebox'

/** The settings of a service that sends mail; spread into its configuration schema. */
export const MailConfigProperties = {
  /**
   * The SMTP server: `smtp://host:port` (STARTTLS when offered), `smtps://host:port` (TLS from the
   * start), with an optional login `smtp://user:password@host:port` (percent-encoded). The default is
   * the local stack's maildev.
   */
  SMTP_URL: Type.String({ default: 'smtp://127.0.0.1:1025', 'x-url-protocols': ['smtp', 'smtps'] }),
  /** The sender of every mail: an address, or `Name <address>`. */
  MAIL_FROM: Type.String({ minLength: 3, default: 'Pulse <no-reply@pulse.localhost>' }),
  /** How long connecting to, greeting and every exchange with the SMTP server may take. */
  MAIL_SMTP_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 })
}
