import { ProviderRequestError, ProviderUnauthorizedError, ProviderUnavailableError, type AnswerCheck, type Clock } from '@pulse/ingest-kit'
import { APP_BUCKET, type HelixClient } from './client.js'

export interface AppTokenOptions {
  /** TWITCH_AUTH_URL, e.g. https://id.twitch.tv/oauth2 */
  authUrl: string
  clientId: string
  clientSecret: string
  now: Clock
  timeoutMs: number
  fetch?: typeof fetch
}

/**
 * An app access token (client credentials grant, docs/providers.md §1.1) for the public Helix calls,
 * fetched once and reused until shortly before it expires; app tokens cannot be refreshed, so a
 * new one is fetched instead. Concurrent callers share one fetch.
 */
export class AppTokenProvider {
  private cached: { token: string, expiresAt: number } | undefined
  private pending: Promise<string> | undefined
  private readonly fetch: typeof fetch

  constructor (private readonly options: AppTokenOptions) {
    this.fetch = options.fetch ?? globalThis.fetch
  }

  async token (): Promise<string> {
    if (this.cached !== undefined && this.cached.expiresAt > this.options.now()) return this.cached.token
    this.pending ??= this.fetchToken().finally(() => { this.pending = undefined })
    return await this.pending
  }

  /** Twitch refused the token (401): the next call fetches a new one. */
  invalidate (token: string): void {
    if (this.cached?.token === token) this.cached = undefined
  }

  private async fetchToken (): Promise<string> {
    const { authUrl, clientId, clientSecret, now, timeoutMs } = this.options
    let response: Response
    try {
      response = await this.fetch(`${authUrl.replace(/\/+$/, '')}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({ client_id: clientId, client_secret: clientSecret, grant_type: 'client_credentials' }).toString(),
        signal: AbortSignal.timeout(timeoutMs)
      })
    } catch (error) {
      throw new ProviderUnavailableError('POST /oauth2/token (client credentials) failed', { cause: error })
    }
    if (response.status >= 500 || response.status === 429) throw new ProviderUnavailableError(`POST /oauth2/token (client credentials) answered ${response.status}`)
    if (!response.ok) throw new ProviderRequestError(response.status, `POST /oauth2/token (client credentials) answered ${response.status}: check TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET`)
    const body = await response.json().catch(() => undefined) as { access_token?: unknown, expires_in?: unknown } | undefined
    if (typeof body?.access_token !== 'string' || body.access_token === '') throw new ProviderRequestError(200, 'POST /oauth2/token (client credentials) answered no access token')
    const lifetimeS = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600
    // Renewed a minute early (or at half its life, for short-lived tokens).
    this.cached = { token: body.access_token, expiresAt: now() + Math.max(lifetimeS * 500, lifetimeS * 1000 - 60_000) }
    return body.access_token
  }
}

/** A Helix GET with the app access token, on the app's rate-limit bucket; a token Twitch refuses is replaced once. */
export type AppGet = <T>(path: string, params: Array<[string, string]>, check: AnswerCheck<T>) => Promise<T>

export function appGet (helix: HelixClient, appToken: AppTokenProvider): AppGet {
  return async <T>(path: string, params: Array<[string, string]>, check: AnswerCheck<T>): Promise<T> => {
    const token = await appToken.token()
    try {
      return await helix.get(path, params, { accessToken: token, bucket: APP_BUCKET }, check)
    } catch (error) {
      if (!(error instanceof ProviderUnauthorizedError)) throw error
      appToken.invalidate(token)
      return await helix.get(path, params, { accessToken: await appToken.token(), bucket: APP_BUCKET }, check)
    }
  }
}
