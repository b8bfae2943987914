import createError from '@fastify/error'

/** This service's error catalogue; the kit's error handler shapes every reply. */
export const NotifyEndpointNotFoundError = createError('NOTIFY_NOT_FOUND', 'No such webhook endpoint', 404)
export const NotifyValidationError = createError<[string]>('NOTIFY_VALIDATION', '%s', 400)
export const NotifyAdminKindError = createError<[number]>('NOTIFY_VALIDATION', 'body/changes/%s/kind: contact.received is for admins only', 400)
export const NotifyUrlRefusedError = createError<[string, string]>('NOTIFY_URL_REFUSED', '%s: %s', 400)
export const NotifyTooManyEndpointsError = createError<[number]>('NOTIFY_TOO_MANY_ENDPOINTS', 'At most %s webhook endpoints per user', 409)
export const NotifyEndpointDisabledError = createError('NOTIFY_ENDPOINT_DISABLED', 'The endpoint is disabled; enable it first (PATCH { enabled: true })', 409)
export const NotifyBadLinkError = createError('NOTIFY_BAD_LINK', 'querystring/token is not a valid unsubscribe link', 400)
