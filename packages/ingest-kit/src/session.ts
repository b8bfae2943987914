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

  private constructor (private readonly ask: AskForToken, private current: ProviderGrant, private readonly maxRenewals: number) {}

  static async open (ask: AskForToken, maxRenewals = 2): Promise<ProviderSession> {
    return new ProviderSession(ask, await ask(), maxRenewals)
  }

  get grant (): ProviderGrant {
    return this.current
  }

  async call<T> (fn: (grant: ProviderGrant) => Promise<T>): Promise<T> {
    try {
      return await fn(this.current)
    } catch (error) {
      if (!(error instanceof ProviderUnauthorizedError)) throw error
      if (this.renewals >= this.maxRenewals) throw new TokenRevokedError(`${error.message}; no more renewals in this refresh`)
      this.renewals++
      this.current = await this.ask(this.current.accessToken)
    }
    try {
      return await fn(this.current)
    } catch (error) {
      if (error instanceof ProviderUnauthorizedError) throw new TokenRevokedError(`${error.message}, also with a renewed token`)
      throw error
    }
  }
}
