import type { Static, TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { sleep, type Clock } from './clock.js'
import {
  ProviderRateLimitedError, ProviderRequestError, ProviderUnauthorizedError, ProviderUnavailableError
} from './provider-errors.js'
import type { IngestMetrics } from './metrics.js'
import { countHeader, epochSecondsHeader, type RateLimitTracker } from './rate-limit.js'

export interface ProviderHttpOptions {
  now: Clock
  tracker: RateLimitTracker
  /** The provider's rate-limit header names (lower case). */
  rateLimitHeaders: { remaining: string, reset: string }
  /** One call's time limit. */
  timeoutMs: number
  /** Tries of one call when the provider answers 5xx or the network fails (1 = no retry). */
  maxAttempts: number
  /** The first pause between those tries; it doubles each time. */
  retryBaseMs: number
  /** A spent budget that refills within this long is waited for in place; longer waits redeliver. */
  maxInlineWaitMs: number
  /**
   * The longest a reset can be away: the provider's window. A reset further off means the clocks
   * disagree, and waiting one window is enough for any budget to refill.
   */
  maxRateLimitWaitMs: number
  log?: { warn: (obj: object, msg: string) => void }
  fetch?: typeof fetch
  /** Calls by endpoint and status, their duration, the budget left (off when the service has no metrics). */
  metrics?: IngestMetrics
}

/** What a provider's answer must look like, compiled once from the service's schema of the parts it reads. */
export interface AnswerCheck<T> {
  check: (value: unknown) => value is T
  describe: (value: unknown) => string
}

export function answerCheck<S extends TSchema> (schema: S): AnswerCheck<Static<S>> {
  const compiled = Compile(schema)
  return {
    check: (value: unknown): value is Static<S> => compiled.Check(value),
    describe: (value: unknown) => compiled.Errors(value).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')
  }
}

export interface ProviderCall {
  url: string
  /** Built per attempt: OAuth 1.0a signatures need a fresh nonce and timestamp every time. */
  headers: () => Record<string, string> | Promise<Record<string, string>>
  /** The budget this call spends (e.g. `user:<id>`, `GET /2/users/me:<id>`). */
  bucket: string
  /** The endpoint, for messages and logs (no ids, no tokens). */
  endpoint: string
}

/**
 * GETs JSON from a provider: waits for or refuses calls its rate-limit budget would not allow,
 * retries 5xx and network failures a few times with backoff, and turns the rest into the errors
 * the pipeline classifies (401 → ProviderUnauthorizedError, 429 → ProviderRateLimitedError, …).
 */
export class ProviderHttp {
  private readonly fetch: typeof fetch

  constructor (private readonly options: ProviderHttpOptions) {
    this.fetch = options.fetch ?? globalThis.fetch
  }

  /**
   * The call's JSON answer; with `answer`, checked against it: an answer of another shape is a
   * ProviderRequestError (the provider changed, or something between answers for it).
   */
  async getJson<T = unknown> (call: ProviderCall, answer?: AnswerCheck<T>): Promise<T> {
    const { maxAttempts, retryBaseMs, timeoutMs, log } = this.options
    let lastProblem = 'no attempt made'
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      await this.respectBudget(call)
      let response: Response
      const headers = await call.headers()
      const started = performance.now()
      try {
        response = await this.fetch(call.url, { headers, signal: AbortSignal.timeout(timeoutMs) })
        this.options.metrics?.providerCall(call.endpoint, response.status, (performance.now() - started) / 1000)
      } catch (error) {
        this.options.metrics?.providerCall(call.endpoint, 'network', (performance.now() - started) / 1000)
        lastProblem = `${call.endpoint} failed: ${(error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message}`
        log?.warn({ endpoint: call.endpoint, attempt, err: error }, 'provider call failed')
        if (attempt < maxAttempts) await sleep(retryBaseMs * 2 ** (attempt - 1))
        continue
      }
      this.recordBudget(call, response.headers)
      if (response.ok) {
        let body: unknown
        try {
          body = await response.json()
        } catch {
          throw new ProviderRequestError(response.status, `${call.endpoint} answered ${response.status} without JSON`)
        }
        if (answer !== undefined && !answer.check(body)) throw new ProviderRequestError(response.status, `${call.endpoint} answered an unexpected shape: ${answer.describe(body)}`)
        return body as T
      }
      // The body only helps the log; it never carries credentials.
      const body = (await response.text().catch(() => '')).slice(0, 300)
      if (response.status === 401) throw new ProviderUnauthorizedError(call.endpoint)
      if (response.status === 429) {
        const retryAt = this.retryAt(epochSecondsHeader(response.headers.get(this.options.rateLimitHeaders.reset)))
        this.options.tracker.record(call.bucket, 0, retryAt)
        if (retryAt - this.options.now() <= this.options.maxInlineWaitMs && attempt < maxAttempts) {
          await sleep(retryAt - this.options.now())
          continue
        }
        throw new ProviderRateLimitedError(retryAt, `${call.endpoint} answered 429: the rate limit is reached`)
      }
      if (response.status >= 500) {
        lastProblem = `${call.endpoint} answered ${response.status}`
        log?.warn({ endpoint: call.endpoint, attempt, status: response.status }, 'provider answered 5xx')
        if (attempt < maxAttempts) await sleep(retryBaseMs * 2 ** (attempt - 1))
        continue
      }
      throw new ProviderRequestError(response.status, `${call.endpoint} answered ${response.status}: ${body}`)
    }
    throw new ProviderUnavailableError(`${lastProblem} (${maxAttempts} attempts)`)
  }

  /** A spent budget: wait for a short reset, refuse the call (redeliver later) for a long one. */
  private async respectBudget (call: ProviderCall): Promise<void> {
    const until = this.options.tracker.blockedUntil(call.bucket)
    if (until === undefined) return
    const retryAt = this.retryAt(until)
    const wait = retryAt - this.options.now()
    if (wait > this.options.maxInlineWaitMs) {
      throw new ProviderRateLimitedError(retryAt, `${call.endpoint}: the rate-limit budget is spent until its reset`)
    }
    await sleep(wait)
  }

  private recordBudget (call: ProviderCall, headers: Headers): void {
    const { remaining, reset } = this.options.rateLimitHeaders
    const left = countHeader(headers.get(remaining))
    this.options.tracker.record(call.bucket, left, epochSecondsHeader(headers.get(reset)))
    if (left !== undefined) this.options.metrics?.rateLimitRemaining(call.endpoint, left)
  }

  /** When to try again: the reset, or one second from now without one, never beyond one window. */
  private retryAt (resetAt: number | undefined): number {
    const now = this.options.now()
    if (resetAt === undefined) return now + 1000
    return Math.min(Math.max(resetAt, now), now + this.options.maxRateLimitWaitMs)
  }
}
