import createError from '@fastify/error'

/** This service's error catalogue; the kit's error handler shapes every reply. */
export const ContactNotFoundError = createError('CONTACT_NOT_FOUND', 'No such message', 404)
export const ContactRateLimitedError = createError<[number]>('CONTACT_RATE_LIMITED', 'Too many messages from this address; retry in %s seconds', 429)
export const ContactInvalidCursorError = createError('CONTACT_VALIDATION', 'querystring/cursor is not a cursor this list returned', 400)
export const ContactPageTooLargeError = createError<[number]>('CONTACT_VALIDATION', 'querystring/limit must be <= %s', 400)
export const ContactIdempotencyKeyReusedError = createError(
  'CONTACT_IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used for a different message; use a new key for a new message', 422
)
