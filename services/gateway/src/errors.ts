import createError from '@fastify/error'

export const GatewayUpstreamUnavailableError = createError('GATEWAY_UPSTREAM_UNAVAILABLE', 'The %s service is unavailable; retry shortly', 503)
export const GatewayUpstreamTimeoutError = createError('GATEWAY_UPSTREAM_TIMEOUT', 'The %s service did not answer in time', 504)
export const GatewayBadGatewayError = createError('GATEWAY_BAD_GATEWAY', 'The %s service failed to answer', 502)
export const GatewaySessionUnavailableError = createError('GATEWAY_SESSION_UNAVAILABLE', 'Sessions cannot be checked right now; retry shortly', 503)
export const GatewayPayloadTooLargeError = createError('GATEWAY_PAYLOAD_TOO_LARGE', 'The request body is larger than %d bytes', 413)
export const GatewayRateLimitedError = createError('GATEWAY_RATE_LIMITED', 'Too many requests; retry after %d seconds', 429)
export const GatewayCrossSiteRequestError = createError('GATEWAY_CROSS_SITE_REQUEST', 'Cross-site %s refused: %s', 403)
export const GatewayUnauthenticatedError = createError('GATEWAY_UNAUTHENTICATED', 'Log in first', 401)
