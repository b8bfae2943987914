import Type from 'typebox'
import { defineEvent, type StreamContract } from './define.js'

export const CONTACT_STREAM: StreamContract = { name: 'CONTACT', subjects: ['contact.>'] }

/** A contact-form message was stored (spam included, flagged). */
export const ContactSubmittedV1 = defineEvent('contact.submitted.v1', Type.Object({
  id: Type.String(),
  receivedAt: Type.String({ format: 'date-time' }),
  spam: Type.Boolean()
}))
