import Type, { type Static } from 'typebox'

/**
 * DELETE /auth/me: the account is deleted for good. An account with a password confirms with it; an
 * account without one (signed up with Twitch or X) confirms by a fresh sign-in with its provider: the
 * session must have been started by that sign-in within `ACCOUNT_DELETE_REAUTH_S`.
 */
export const DeleteAccountBodySchema = Type.Object({
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: "the account's password; required when the account has one" }))
}, { additionalProperties: false })
export type DeleteAccountBody = Static<typeof DeleteAccountBodySchema>

export const DataExportSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('ready')], { description: 'pending: being gathered from every service; ready: the archive can be downloaded' }),
  requestedAt: Type.String({ format: 'date-time' }),
  /** When the archive is deleted; null while pending. */
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
})
export type DataExport = Static<typeof DataExportSchema>

export const DataExportResponseSchema = Type.Object({ export: DataExportSchema })
export const DataExportListSchema = Type.Object({ items: Type.Array(DataExportSchema) })
export const DataExportParamsSchema = Type.Object({ id: Type.String({ format: 'uuid' }) })
