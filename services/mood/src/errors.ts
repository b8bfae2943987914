import createError from '@fastify/error'

/** This service's error catalogue; the kit's error handler shapes every reply. */
export const MoodEntryNotFoundError = createError('MOOD_NOT_FOUND', 'No mood entry with this id', 404)

/** Bad input the schemas cannot express (a future loggedAt, an unknown time zone, a bad cursor…); the message names the field. */
export const MoodValidationError = createError<[string]>('MOOD_VALIDATION', '%s', 400)

export const MoodIdempotencyConflictError = createError(
  'MOOD_IDEMPOTENCY_CONFLICT', 'This Idempotency-Key was already used with a different request body', 409
)
