import Type, { type Static } from 'typebox'
import { defineEvent } from './define.js'
import { defineRequestReply } from './tokens.js'

/**
 * The services auth asks for a user's data when it prepares an export, each on its own subject (core
 * NATS request-reply, outside every stream), so the NATS permissions let each answer only for itself.
 */
export const USER_DATA_SUBJECTS = {
  mood: 'rpc.mood.user-data.v1',
  contact: 'rpc.contact.user-data.v1',
  'twitch-ingest': 'rpc.twitch-ingest.user-data.v1',
  'twitter-ingest': 'rpc.twitter-ingest.user-data.v1'
} as const
export type UserDataService = keyof typeof USER_DATA_SUBJECTS

export const UserDataRequestSchema = Type.Object({
  userId: Type.String(),
  /** From the previous page's `nextCursor`; absent for the first page. */
  cursor: Type.Optional(Type.String({ maxLength: 200 }))
}, { additionalProperties: false })
export type UserDataRequest = Static<typeof UserDataRequestSchema>

/**
 * One page of the user's records (a reply stays well under NATS's 1 MB payload limit: each service
 * picks its page size), in a stable order; `nextCursor` null on the last page. Never a secret.
 */
export const UserDataReplySchema = Type.Union([
  Type.Object({
    ok: Type.Literal(true),
    records: Type.Array(Type.Record(Type.String(), Type.Unknown())),
    nextCursor: Type.Union([Type.String(), Type.Null()])
  }),
  Type.Object({
    ok: Type.Literal(false),
    /** unavailable: its database did not answer, ask again later; invalid: a malformed request. */
    error: Type.Union([Type.Literal('unavailable'), Type.Literal('invalid')]),
    message: Type.String()
  })
])
export type UserDataReply = Static<typeof UserDataReplySchema>

export const UserDataRpcV1 = defineRequestReply('user-data.v1', USER_DATA_SUBJECTS, UserDataRequestSchema, UserDataReplySchema)

/** A user asked for an export of their data: auth gathers it from every service, then stores the archive. */
export const ExportRequestedV1 = defineEvent('auth.export.requested.v1', Type.Object({
  userId: Type.String(),
  exportId: Type.String(),
  requestedAt: Type.String({ format: 'date-time' })
}))
