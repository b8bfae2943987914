import { randomMixed, randomString } from './secrets.js'

/** X's OAuth 1.0a request tokens and access tokens (docs/providers.md §2.1). */
export interface RequestToken {
  secret: string
  consumerKey: string
  callback: string
  expiresAt: number
  /** Set when the user approves on the authorize page. */
  approval?: { userId: string, verifier: string }
}

export interface XAccessToken {
  token: string
  secret: string
  consumerKey: string
  userId: string
  active: boolean
}

const REQUEST_TOKEN_LIFETIME_MS = 15 * 60_000

export class XTokens {
  private readonly requestTokens = new Map<string, RequestToken>()
  private readonly accessTokens = new Map<string, XAccessToken>()
  private readonly current = new Map<string, XAccessToken>()

  issueRequestToken (consumerKey: string, callback: string, now: number): { token: string, secret: string } {
    const token = randomMixed(27)
    const secret = randomMixed(32)
    this.requestTokens.set(token, { secret, consumerKey, callback, expiresAt: now + REQUEST_TOKEN_LIFETIME_MS })
    return { token, secret }
  }

  requestToken (token: string, now: number): RequestToken | undefined {
    const found = this.requestTokens.get(token)
    if (found !== undefined && found.expiresAt <= now) this.requestTokens.delete(token)
    return found !== undefined && found.expiresAt > now ? found : undefined
  }

  approve (token: string, userId: string): string {
    const found = this.requestTokens.get(token)
    if (found === undefined) throw new Error('no such request token')
    // Out-of-band clients type the verifier in: X shows a seven-digit PIN.
    const verifier = found.callback === 'oob' ? randomString(7, '0123456789') : randomMixed(32)
    found.approval = { userId, verifier }
    return verifier
  }

  /** Request tokens are single-use: exchanged, denied or failed, they are gone. */
  dropRequestToken (token: string): void {
    this.requestTokens.delete(token)
  }

  /**
   * X hands out the same access token again when a user re-authorizes an app they already
   * authorized, until it is invalidated (user access tokens do not expire, docs/providers.md §2.1).
   */
  accessTokenFor (consumerKey: string, userId: string): XAccessToken {
    const key = `${consumerKey}:${userId}`
    const existing = this.current.get(key)
    if (existing?.active === true) return existing
    const created: XAccessToken = { token: `${userId}-${randomMixed(40)}`, secret: randomMixed(45), consumerKey, userId, active: true }
    this.accessTokens.set(created.token, created)
    this.current.set(key, created)
    return created
  }

  accessToken (token: string): XAccessToken | undefined {
    const found = this.accessTokens.get(token)
    return found?.active === true ? found : undefined
  }

  invalidate (token: string): void {
    const found = this.accessTokens.get(token)
    if (found !== undefined) found.active = false
  }

  revokeUser (userId: string): void {
    for (const token of this.accessTokens.values()) {
      if (token.userId === userId) token.active = false
    }
  }
}

