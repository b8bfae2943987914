import Type from 'typebox'
import { defineEvent } from './define.js'

/**
 * A mail waits in auth's `mails` table: auth's mail sender reads it, sends it and clears its body.
 * Only the id travels: the mail may hold a secret link (a password reset, an address check), and
 * secrets never travel in events.
 */
export const MailQueuedV1 = defineEvent('auth.mail.queued.v1', Type.Object({
  mailId: Type.String()
}, { additionalProperties: false }))
