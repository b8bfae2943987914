import type { AnswerCheck, ProviderGrant, ProviderHttp } from '@pulse/ingest-kit'
import { signRequest } from '@pulse/oauth1'

export interface XClientOptions {
  /** TWITTER_API_URL, e.g. https://api.x.com */
  apiUrl: string
  /** The OAuth 1.0a consumer (the X app). */
  consumerKey: string
  consumerSecret: string
  http: ProviderHttp
}

/**
 * X API v2 over HTTP, in the user's context. With a token secret (OAuth 1.0a, what auth stores
 * for X) every request is signed with the consumer and the user's token (RFC 5849, docs/providers.md
 * §2.2): query parameters are signed, the header is built fresh per attempt (nonce, timestamp).
 * Without one the token is an OAuth 2.0 user token and goes as `Bearer`.
 */
export class XClient {
  private readonly base: string

  constructor (private readonly options: XClientOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '')
  }

  /** `path` like `2/users/me`; `endpoint` names the route (`GET /2/users/:id/tweets`) for budgets and logs. */
  async get<T> (path: string, params: Record<string, string>, grant: ProviderGrant, endpoint: string, check: AnswerCheck<T>): Promise<T> {
    const query = new URLSearchParams(params).toString()
    const url = query === '' ? `${this.base}/${path}` : `${this.base}/${path}?${query}`
    const { consumerKey, consumerSecret } = this.options
    return await this.options.http.getJson({
      url,
      endpoint,
      // X's limits are per endpoint and user (docs/providers.md §2.6).
      bucket: `${endpoint}:${grant.providerUserId}`,
      headers: async () => ({
        Accept: 'application/json',
        Authorization: grant.tokenSecret === undefined
          ? `Bearer ${grant.accessToken}`
          : signRequest({ method: 'GET', url, consumerKey, consumerSecret, token: grant.accessToken, tokenSecret: grant.tokenSecret })
      })
    }, check)
  }
}
