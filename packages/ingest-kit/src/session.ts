import { ProviderUnauthorizedError, TokenRevokedError } from './provider-errors.js'
import type { ProviderGrant } from './token-client.js'

/** Asks auth for a token; with `rejectedAccessToken` for a new one instead of the one refused. */
export type AskForToken = (rejectedAccessToken?: string) => Promise<ProviderGrant>

/**
 * The credentials of one refresh. A call the provider refuses with 401 is retried once with a token
 * auth issues after hearing which one was rejected (Twitch refreshes reactively on 401, as Twitch
 * recommends, docs/providers.md §3.2); a second refusal means the grant is gone.
 */
export class ProviderSession {
  private renewals = 0
  /** The renewal in flight: calls refused together (a refresh's calls run concurrently) share it. */
  private renewing: Promise<ProviderGrant> | undefined

  private constructor (private readonly ask: AskForToken, private current: ProviderGrant, private readonly maxRenewals: number) {}

  static async open (ask: AskForToken, maxRenewals = 2): Promise<ProviderSession> {
    return new ProviderSession(ask, await ask(), maxRenewals)
  }

  get grant (): ProviderGrant {
    return this.current
  }

  async call<T> (fn: (grant: ProviderGrant) => Promise<T>): Promise<T> {
    const used = this.current
    try {
      return await fn(used)
    } catch (error) {
      if (!(error instanceof ProviderUnauthorizedError)) throw error
      // Another call of this refresh renewed the token already (or is doing so): use that one.
      if (this.current === used) {
        if (this.renewing === undefined) {
          if (this.renewals >= this.maxRenewals) throw new TokenRevokedError(`${error.message}; no more renewals in this refresh`)
          this.renewals++
          this.renewing = this.ask(used.accessToken).finally(() => { this.renewing = undefined })
        }
        this.current = await this.renewing
      }
    }
    try {
      return await fn(this.current)
    } catch (error) {
      if (error instanceof ProviderUnauthorizedError) throw new TokenRevokedError(`${error.message}, also with a renewed token`)
      throw error
    }
  }
}

/**
 * Runs the independent provider calls of one refresh at once and answers their results in order.
 * Unlike `Promise.all`, it waits for every call to end before it throws (the first failure, in
 * the order given), so no call of a refresh that failed is still running, spending the rate-limit
 * budget, after the refresh was handed back for redelivery. Pages of one list stay sequential
 * inside their task.
 */
export async function concurrently<T extends readonly unknown[]> (tasks: { [K in keyof T]: () => Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(tasks.map(async (task) => await task()))
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T
}
