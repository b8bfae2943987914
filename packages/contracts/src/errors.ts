import Type, { type Static } from 'typebox'

/** The one error shape every service answers with (see docs/architecture.md, "Errors, logs, requests"). */
export const ErrorResponseSchema = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
    error: Type.String(),
    message: Type.String(),
    code: Type.String({ description: 'Service-prefixed error code, e.g. MOOD_NOT_FOUND' })
  },
  { $id: 'ErrorResponse', additionalProperties: false }
)
export type ErrorResponse = Static<typeof ErrorResponseSchema>
