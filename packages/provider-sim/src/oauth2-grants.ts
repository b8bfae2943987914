/**
 * OAuth 2.0 authorization codes and tokens (RFC 6749), for Twitch and for X's OAuth 2.0. A grant is
 * one consent of a user to a client (or an app token); its tokens stop working together when it
 * is revoked.
 */
export interface Grant {
  clientId: string
  /** Undefined for an app access token. */
  userId: string | undefined
  scopes: string[]
  active: boolean
}

export interface AuthorizationCode {
  clientId: string
  userId: string
  scopes: string[]
  redirectUri: string
  expiresAt: number
  /** PKCE (RFC 7636), when the authorize request carried a code_challenge. */
  challenge?: { value: string, method: 'S256' | 'plain' }
}

export interface IssuedTokens {
  accessToken: string
  refreshToken: string | undefined
  expiresIn: number
}

export interface AccessGrant {
  grant: Grant
  expiresAt: number
}

export interface GrantPolicy {
  codeLifetimeMs: number
  /** Seconds a user access token lives. */
  userTokenLifetime: () => number
  /** Seconds an app access token lives. */
  appTokenLifetime: () => number
  accessToken: (now: number) => string
  refreshToken: (now: number) => string
  code: () => string
}

export class OAuth2Grants {
  private readonly codes = new Map<string, AuthorizationCode>()
  private readonly access = new Map<string, AccessGrant>()
  private readonly refresh = new Map<string, Grant>()
  private readonly grants: Grant[] = []

  constructor (private readonly policy: GrantPolicy) {}

  issueCode (code: Omit<AuthorizationCode, 'expiresAt'>, now: number): string {
    const value = this.policy.code()
    this.codes.set(value, { ...code, expiresAt: now + this.policy.codeLifetimeMs })
    return value
  }

  /** A live code, without using it up. */
  peekCode (value: string, now: number): AuthorizationCode | undefined {
    const code = this.codes.get(value)
    if (code !== undefined && code.expiresAt <= now) this.codes.delete(value)
    return code !== undefined && code.expiresAt > now ? code : undefined
  }

  /** Codes are single-use (RFC 6749 §4.1.2). */
  consumeCode (value: string): void {
    this.codes.delete(value)
  }

  issueUserTokens (clientId: string, userId: string, scopes: string[], now: number, withRefresh = true): IssuedTokens {
    const grant: Grant = { clientId, userId, scopes, active: true }
    this.grants.push(grant)
    return this.issueFor(grant, now, withRefresh)
  }

  private issueFor (grant: Grant, now: number, withRefresh: boolean): IssuedTokens {
    const accessToken = this.policy.accessToken(now)
    const expiresIn = this.policy.userTokenLifetime()
    this.access.set(accessToken, { grant, expiresAt: now + expiresIn * 1000 })
    let refreshToken: string | undefined
    if (withRefresh) {
      refreshToken = this.policy.refreshToken(now)
      this.refresh.set(refreshToken, grant)
    }
    return { accessToken, refreshToken, expiresIn }
  }

  /** App access tokens have no user and no refresh token. */
  issueAppToken (clientId: string, now: number): IssuedTokens {
    const grant: Grant = { clientId, userId: undefined, scopes: [], active: true }
    this.grants.push(grant)
    const accessToken = this.policy.accessToken(now)
    const expiresIn = this.policy.appTokenLifetime()
    this.access.set(accessToken, { grant, expiresAt: now + expiresIn * 1000 })
    return { accessToken, refreshToken: undefined, expiresIn }
  }

  /**
   * Trades a refresh token for a new pair. The old refresh token stops working at once: X's are
   * single-use (docs/providers.md §2.4), and Twitch's "may change", so clients must always store the new
   * one. Access tokens already issued keep working until they expire.
   */
  rotate (refreshToken: string, clientId: string, now: number): { tokens: IssuedTokens, scopes: string[] } | undefined {
    const grant = this.refresh.get(refreshToken)
    if (grant === undefined || !grant.active || grant.clientId !== clientId) return undefined
    this.refresh.delete(refreshToken)
    return { tokens: this.issueFor(grant, now, true), scopes: grant.scopes }
  }

  /** The grant behind a live access token. */
  lookup (accessToken: string, now: number): AccessGrant | undefined {
    const found = this.access.get(accessToken)
    if (found === undefined || !found.grant.active) return undefined
    if (found.expiresAt <= now) {
      this.access.delete(accessToken)
      return undefined
    }
    return found
  }

  /** Revokes the grant behind an access or refresh token of this client. */
  revokeToken (clientId: string, token: string): boolean {
    const grant = this.access.get(token)?.grant ?? this.refresh.get(token)
    if (grant === undefined || !grant.active || grant.clientId !== clientId) return false
    grant.active = false
    return true
  }

  /** The scopes a user has granted this client through grants still active (empty: none). */
  userAuthorization (clientId: string, userId: string): Set<string> | undefined {
    let scopes: Set<string> | undefined
    for (const grant of this.grants) {
      if (grant.active && grant.clientId === clientId && grant.userId === userId) {
        scopes ??= new Set()
        for (const scope of grant.scopes) scopes.add(scope)
      }
    }
    return scopes
  }

  /** The clients a user has an active grant for. */
  clientsOf (userId: string): Set<string> {
    return new Set(this.grants.filter((g) => g.active && g.userId === userId).map((g) => g.clientId))
  }

  /** The user disconnected the apps: all their grants end. */
  revokeUser (userId: string): void {
    for (const grant of this.grants) {
      if (grant.userId === userId) grant.active = false
    }
  }
}
