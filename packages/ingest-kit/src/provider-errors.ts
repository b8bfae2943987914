/**
 * What can go wrong while refreshing one account, as the pipeline decides on it: some failures are
 * worth a later attempt (the message is redelivered), others end the request with a
 * `metrics.refresh.failed` event.
 */
export type FailureReason = 'rate_limited' | 'token_revoked' | 'provider_unavailable' | 'not_connected' | 'internal'

/** The provider said 429, or the last rate-limit headers say the budget is spent until `retryAt`. */
export class ProviderRateLimitedError extends Error {
  override readonly name = 'ProviderRateLimitedError'
  constructor (readonly retryAt: number, message = 'provider rate limit reached') {
    super(message)
  }
}

/** The provider refused the credentials (401). The session asks auth for a new token once. */
export class ProviderUnauthorizedError extends Error {
  override readonly name = 'ProviderUnauthorizedError'
  constructor (readonly endpoint: string) {
    super(`provider refused the credentials on ${endpoint} (401)`)
  }
}

/** 5xx answers or network failures after the bounded in-call retries. */
export class ProviderUnavailableError extends Error {
  override readonly name = 'ProviderUnavailableError'
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** Any other 4xx, or an answer that is not what the API documents: retrying would not help. */
export class ProviderRequestError extends Error {
  override readonly name = 'ProviderRequestError'
  constructor (readonly status: number, message: string) {
    super(message)
  }
}

/** Auth has no connection of this provider for the user. */
export class NotConnectedError extends Error {
  override readonly name = 'NotConnectedError'
}

/** The grant is unusable: auth says so, or the provider refused a freshly issued token too. */
export class TokenRevokedError extends Error {
  override readonly name = 'TokenRevokedError'
}

/** Auth did not answer in time, had no responder, or said it is unavailable: ask again later. */
export class TokenUnavailableError extends Error {
  override readonly name = 'TokenUnavailableError'
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

export type RefreshErrorDecision =
  /** Redeliver later; once the request is too old, fail it with `reason`. */
  | { kind: 'retry', reason: FailureReason, retryAt?: number, message: string }
  /** Fail the request now. */
  | { kind: 'final', reason: FailureReason, message: string, invalidate: boolean }
  /** Not one of ours (a bug, Postgres down): the consumer's own backoff redelivers it. */
  | { kind: 'unexpected', message: string }

/** How the pipeline treats an error thrown while refreshing. */
export function classifyRefreshError (error: unknown): RefreshErrorDecision {
  if (error instanceof ProviderRateLimitedError) return { kind: 'retry', reason: 'rate_limited', retryAt: error.retryAt, message: error.message }
  if (error instanceof ProviderUnavailableError) return { kind: 'retry', reason: 'provider_unavailable', message: error.message }
  if (error instanceof TokenUnavailableError) return { kind: 'retry', reason: 'internal', message: error.message }
  if (error instanceof TokenRevokedError) return { kind: 'final', reason: 'token_revoked', message: error.message, invalidate: true }
  if (error instanceof ProviderUnauthorizedError) return { kind: 'final', reason: 'token_revoked', message: error.message, invalidate: true }
  if (error instanceof NotConnectedError) return { kind: 'final', reason: 'not_connected', message: error.message, invalidate: false }
  if (error instanceof ProviderRequestError) return { kind: 'final', reason: 'internal', message: error.message, invalidate: false }
  return { kind: 'unexpected', message: error instanceof Error ? error.message : String(error) }
}
