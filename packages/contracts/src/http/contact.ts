import Type, { type Static } from 'typebox'
import { PageQuerySchema, PageSchema } from './common.js'

/**
 * The contact form (docs/api.md, "Contact"): anyone writes to the team, admins read and triage.
 * Field limits are part of the public contract, so they live here rather than in a service setting.
 */
export const CONTACT_LIMITS = {
  nameMaxLength: 100,
  /** RFC 5321 §4.5.3.1.3: a forward path is at most 256 octets including the angle brackets. */
  emailMaxLength: 254,
  subjectMaxLength: 200,
  messageMaxLength: 5000,
  idempotencyKeyMaxLength: 200
} as const

/**
 * The honeypot: a field the form hides from people (and marks `autocomplete="off"`), which bots fill
 * in. A submission that fills it is stored as spam and answered exactly like any other.
 */
export const CONTACT_HONEYPOT_FIELD = 'website'

export const ContactStatusSchema = Type.Union(
  [Type.Literal('new'), Type.Literal('read'), Type.Literal('archived'), Type.Literal('spam')],
  { description: 'new on arrival (spam when the honeypot was filled); admins move messages between all four' }
)
export type ContactStatus = Static<typeof ContactStatusSchema>

/** Contains at least one character that is not whitespace. */
const VISIBLE = '\\S'

/** `POST /contact` body. Bodies are not coerced and unknown fields are refused. */
export const ContactSubmissionBodySchema = Type.Object({
  name: Type.String({
    minLength: 1,
    maxLength: CONTACT_LIMITS.nameMaxLength,
    pattern: VISIBLE,
    description: 'Stored without surrounding whitespace; must contain a visible character'
  }),
  email: Type.String({
    format: 'email',
    maxLength: CONTACT_LIMITS.emailMaxLength,
    // A reply must be deliverable: the domain has at least one dot (no `user@localhost`).
    pattern: '@[^@\\s]+\\.[^@\\s]+$',
    description: 'Where the team can answer; stored as sent'
  }),
  subject: Type.Optional(Type.String({
    maxLength: CONTACT_LIMITS.subjectMaxLength,
    description: 'Stored without surrounding whitespace; blank is stored as no subject'
  })),
  message: Type.String({
    minLength: 1,
    maxLength: CONTACT_LIMITS.messageMaxLength,
    pattern: VISIBLE,
    description: 'Stored exactly as sent; must contain a visible character'
  }),
  [CONTACT_HONEYPOT_FIELD]: Type.Optional(Type.String({ maxLength: 2000, description: 'Leave empty.' }))
}, { additionalProperties: false })
export type ContactSubmissionBody = Static<typeof ContactSubmissionBodySchema>

/** `POST /contact` headers: a retry with the same key answers the first receipt and stores nothing new. */
export const ContactSubmissionHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(Type.String({
    minLength: 1,
    maxLength: CONTACT_LIMITS.idempotencyKeyMaxLength,
    pattern: '^[\\x21-\\x7E]+$',
    description: 'Visible ASCII; a random UUID per message is a good choice'
  }))
})
export type ContactSubmissionHeaders = Static<typeof ContactSubmissionHeadersSchema>

/** `POST /contact` answer (202): the message is stored. */
export const ContactSubmissionReceiptSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  receivedAt: Type.String({ format: 'date-time' })
}, { additionalProperties: false })
export type ContactSubmissionReceipt = Static<typeof ContactSubmissionReceiptSchema>

/** A stored message, as admins see it. */
export const ContactSubmissionSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  email: Type.String(),
  subject: Type.Union([Type.String(), Type.Null()]),
  message: Type.String(),
  status: ContactStatusSchema,
  honeypotFilled: Type.Boolean({ description: 'The honeypot field was filled: the message arrived as spam' }),
  clientIp: Type.String({ description: 'The address the message came from, for abuse review' }),
  userId: Type.Union([Type.String(), Type.Null()], { description: 'The sender when logged in' }),
  receivedAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' })
}, { additionalProperties: false })
export type ContactSubmission = Static<typeof ContactSubmissionSchema>

/** `GET /contact` query: newest first, optionally only one status. */
export const ContactSubmissionListQuerySchema = Type.Object({
  status: Type.Optional(ContactStatusSchema),
  ...PageQuerySchema.properties
})
export type ContactSubmissionListQuery = Static<typeof ContactSubmissionListQuerySchema>

export const ContactSubmissionListSchema = PageSchema(ContactSubmissionSchema)
export type ContactSubmissionList = Static<typeof ContactSubmissionListSchema>

export const ContactSubmissionParamsSchema = Type.Object({
  id: Type.String({ format: 'uuid' })
})
export type ContactSubmissionParams = Static<typeof ContactSubmissionParamsSchema>

/** `PATCH /contact/:id` body. */
export const ContactSubmissionUpdateSchema = Type.Object({
  status: ContactStatusSchema
}, { additionalProperties: false })
export type ContactSubmissionUpdate = Static<typeof ContactSubmissionUpdateSchema>

/** `PATCH /contact/:id` answer. */
export const ContactSubmissionUpdatedSchema = Type.Object({
  submission: ContactSubmissionSchema
}, { additionalProperties: false })
export type ContactSubmissionUpdated = Static<typeof ContactSubmissionUpdatedSchema>
