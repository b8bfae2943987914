import { GrantRejected, ProviderUnavailable, below, jsonOf, providerFetch } from './http.js'

export interface TwitchClientOptions {
  clientId: string
  clientSecret: string
  /** TWITCH_AUTH_URL: id.twitch.tv/oauth2 (token, validate, revoke). */
  authUrl: string
  /** TWITCH_API_URL: Helix. */
  apiUrl: string
  timeoutMs: number
}

export interface TwitchAccount {
  id: string
  login: string
  displayName: string
}

/** What the token endpoint answers, exchange or refresh (docs/providers.md §1.1). */
export interface TwitchTokenAnswer {
  accessToken: string
  refreshToken: string | null
  /** Seconds; optional on refresh (the docs' example omits it). */
  expiresIn: number | undefined
  scopes: string[]
}

/** `scope` is an array on Twitch's exchange and a plain string in the refresh example: accept both. */
export function scopesOf (scope: unknown): string[] {
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === 'string')
  if (typeof scope === 'string') return scope.split(' ').filter((s) => s !== '')
  return []
}

export function tokenAnswerOf (call: string, body: unknown): TwitchTokenAnswer {
  const b = body as { access_token?: unknown, refresh_token?: unknown, expires_in?: unknown, scope?: unknown }
  if (typeof b !== 'object' || b === null || typeof b.access_token !== 'string' || b.access_token === '') {
    throw new ProviderUnavailable(call, 200, new Error('token answer without access_token'))
  }
  return {
    accessToken: b.access_token,
    refreshToken: typeof b.refresh_token === 'string' && b.refresh_token !== '' ? b.refresh_token : null,
    expiresIn: typeof b.expires_in === 'number' ? b.expires_in : undefined,
    scopes: scopesOf(b.scope)
  }
}

/**
 * Twitch's identity service and the one Helix call auth makes. The authorization-code exchange
 * goes through @fastify/oauth2 (routes/twitch.ts); refresh, validate and revoke are plain form
 * posts whose failures auth must tell apart (a refused grant vs. Twitch being down).
 */
export class TwitchClient {
  constructor (private readonly options: TwitchClientOptions) {}

  /**
   * Trades a refresh token for a new pair. The body is form-encoded, which percent-encodes the
   * refresh token: Twitch's contain `%`, `/` and `=` and fail unencoded (docs/providers.md §1.1).
   * 400/401 (invalid or spent refresh token, revoked grant) → GrantRejected.
   */
  async refresh (refreshToken: string): Promise<TwitchTokenAnswer> {
    const call = 'twitch refresh'
    const response = await providerFetch(call, below(this.options.authUrl, 'token'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        client_id: this.options.clientId,
        client_secret: this.options.clientSecret,
        grant_type: 'refresh_token',
        refresh_token: refreshToken
      }).toString()
    }, this.options.timeoutMs)
    if (response.status === 400 || response.status === 401) {
      await response.body?.cancel()
      throw new GrantRejected(call, response.status)
    }
    if (!response.ok) {
      await response.body?.cancel()
      throw new ProviderUnavailable(call, response.status)
    }
    return tokenAnswerOf(call, await jsonOf(call, response))
  }

  /** GET /validate with `Authorization: OAuth` (docs/providers.md §1.1): true when valid, false on 401. */
  async validate (accessToken: string): Promise<boolean> {
    return await this.answeredYes('twitch validate', 'validate', {
      headers: { authorization: `OAuth ${accessToken}`, accept: 'application/json' }
    }, 401)
  }

  /** POST /revoke: true when revoked, false when Twitch says the token is not valid (400). */
  async revoke (token: string): Promise<boolean> {
    return await this.answeredYes('twitch revoke', 'revoke', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: this.options.clientId, token }).toString()
    }, 400)
  }

  /**
   * A call to the identity service whose answer is its status alone: true on success, false on
   * `no` (Twitch's way of saying the token is not valid), ProviderUnavailable on anything else.
   */
  private async answeredYes (call: string, path: string, init: RequestInit, no: number): Promise<boolean> {
    const response = await providerFetch(call, below(this.options.authUrl, path), init, this.options.timeoutMs)
    await response.body?.cancel()
    if (response.status === no) return false
    if (!response.ok) throw new ProviderUnavailable(call, response.status)
    return true
  }

  /** Helix `GET /users` without parameters: the token's own user (docs/providers.md §1.3). */
  async currentUser (accessToken: string): Promise<TwitchAccount> {
    const call = 'twitch users'
    const response = await providerFetch(call, below(this.options.apiUrl, 'users'), {
      headers: { authorization: `Bearer ${accessToken}`, 'client-id': this.options.clientId, accept: 'application/json' }
    }, this.options.timeoutMs)
    if (response.status === 401) {
      await response.body?.cancel()
      throw new GrantRejected(call, 401)
    }
    if (!response.ok) {
      await response.body?.cancel()
      throw new ProviderUnavailable(call, response.status)
    }
    const body = await jsonOf(call, response) as { data?: { id?: unknown, login?: unknown, display_name?: unknown }[] }
    const user = Array.isArray(body?.data) ? body.data[0] : undefined
    if (user === undefined || typeof user.id !== 'string' || typeof user.login !== 'string') {
      throw new ProviderUnavailable(call, response.status, new Error('no user in the answer'))
    }
    return { id: user.id, login: user.login, displayName: typeof user.display_name === 'string' && user.display_name !== '' ? user.display_name : user.login }
  }
}
