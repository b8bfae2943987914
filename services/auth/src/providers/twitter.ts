import { parseFormEncoded, signRequest } from '@pulse/oauth1'
import { GrantRejected, ProviderUnavailable, below, providerFetch } from './http.js'

export interface TwitterClientOptions {
  /** The OAuth 1.0a consumer (TWITTER_API_KEY / TWITTER_API_SECRET). */
  apiKey: string
  apiSecret: string
  /** TWITTER_API_URL: `/oauth/*` and `/1.1/*` live under it. */
  apiUrl: string
  /** apiUrl as browsers reach it (the authenticate page), when it differs. */
  browserUrl?: string
  timeoutMs: number
}

export interface XAccessToken {
  token: string
  secret: string
  userId: string
  screenName: string
}

/**
 * X's OAuth 1.0a three-legged flow (docs/providers.md §2.1): request_token → authenticate →
 * access_token, and invalidate_token. The token steps answer form-encoded text, not JSON. Every
 * request is signed with @pulse/oauth1.
 */
export class TwitterClient {
  constructor (private readonly options: TwitterClientOptions) {}

  private async post (call: string, path: string, auth: { token?: string, tokenSecret?: string, callback?: string, verifier?: string }): Promise<Response> {
    const url = below(this.options.apiUrl, path)
    const authorization = signRequest({ method: 'POST', url, consumerKey: this.options.apiKey, consumerSecret: this.options.apiSecret, ...auth })
    return await providerFetch(call, url, { method: 'POST', headers: { authorization } }, this.options.timeoutMs)
  }

  /**
   * Step 1: a request token for this callback. X must confirm the callback
   * (`oauth_callback_confirmed=true`), otherwise the flow cannot come back here.
   */
  async requestToken (callback: string): Promise<{ token: string, secret: string }> {
    const call = 'x request_token'
    const response = await this.post(call, 'oauth/request_token', { callback })
    const text = await response.text().catch(() => '')
    if (!response.ok) throw new ProviderUnavailable(call, response.status)
    const answer = parseFormEncoded(text)
    if (answer.oauth_callback_confirmed !== 'true' || answer.oauth_token === undefined || answer.oauth_token_secret === undefined) {
      throw new ProviderUnavailable(call, response.status, new Error('callback not confirmed'))
    }
    return { token: answer.oauth_token, secret: answer.oauth_token_secret }
  }

  /** Step 2: "Sign in with X" (skips the prompt for an app the user already authorized). */
  authenticateUrl (requestToken: string): string {
    const url = new URL(below(this.options.browserUrl ?? this.options.apiUrl, 'oauth/authenticate'))
    url.searchParams.set('oauth_token', requestToken)
    return url.toString()
  }

  /** Step 3: the request token and verifier for an access token (which never expires). 401 → GrantRejected. */
  async accessToken (requestToken: string, requestSecret: string, verifier: string): Promise<XAccessToken> {
    const call = 'x access_token'
    const response = await this.post(call, 'oauth/access_token', { token: requestToken, tokenSecret: requestSecret, verifier })
    const text = await response.text().catch(() => '')
    if (response.status === 401) throw new GrantRejected(call, 401)
    if (!response.ok) throw new ProviderUnavailable(call, response.status)
    const answer = parseFormEncoded(text)
    if (answer.oauth_token === undefined || answer.oauth_token_secret === undefined || answer.user_id === undefined || answer.screen_name === undefined) {
      throw new ProviderUnavailable(call, response.status, new Error('incomplete answer'))
    }
    return { token: answer.oauth_token, secret: answer.oauth_token_secret, userId: answer.user_id, screenName: answer.screen_name }
  }

  /** Revokes an access token: true when revoked, false when X says it is already invalid (401). */
  async invalidate (token: string, tokenSecret: string): Promise<boolean> {
    const call = 'x invalidate_token'
    const response = await this.post(call, '1.1/oauth/invalidate_token', { token, tokenSecret })
    await response.body?.cancel()
    if (response.status === 401) return false
    if (!response.ok) throw new ProviderUnavailable(call, response.status)
    return true
  }
}
