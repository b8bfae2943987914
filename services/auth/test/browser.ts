import { IDENTITY_HEADER, sessionCookieName, sessionKey, signAssertion, signIdentity } from '@pulse/service-kit'
import type { TestAuth } from './helper.js'
import { IDENTITY_SECRET } from './helper.js'
import type { Connection } from '@pulse/contracts'

/** One stored cookie, with the attributes tests look at. */
export interface StoredCookie {
  name: string
  value: string
  path: string
  expiresAt: number | undefined
  httpOnly: boolean
  secure: boolean
  sameSite: string | undefined
  maxAge: number | undefined
  raw: string
}

export interface Visit {
  url: URL
  status: number
  location: URL | undefined
  body: string
  /** The body's bytes (a download); only for requests to the gateway. */
  bytes?: Buffer
  headers?: Record<string, unknown>
}

function parseSetCookie (raw: string, now: number): StoredCookie {
  const [pair = '', ...attributes] = raw.split(';').map((s) => s.trim())
  const at = pair.indexOf('=')
  const cookie: StoredCookie = {
    name: pair.slice(0, at), value: pair.slice(at + 1), path: '/', expiresAt: undefined, httpOnly: false, secure: false, sameSite: undefined, maxAge: undefined, raw
  }
  for (const attribute of attributes) {
    const [key = '', ...rest] = attribute.split('=')
    const value = rest.join('=')
    switch (key.toLowerCase()) {
      case 'path': cookie.path = value; break
      case 'httponly': cookie.httpOnly = true; break
      case 'secure': cookie.secure = true; break
      case 'samesite': cookie.sameSite = value; break
      case 'max-age': cookie.maxAge = Number(value); cookie.expiresAt = now + Number(value) * 1000; break
      case 'expires': if (cookie.maxAge === undefined) cookie.expiresAt = Date.parse(value); break
    }
  }
  return cookie
}

/**
 * A browser for OAuth flows: a cookie jar per origin, redirects followed by hand (`redirect:
 * 'manual'`) the way a browser follows them. Requests to the gateway's URL (PUBLIC_URL) are
 * injected into the auth app through a small stand-in for the gateway: it forwards the cookies and
 * adds the signed identity of the session's user (read from Redis, as the gateway does) or of an
 * anonymous caller at this browser's address, and X-Forwarded-Proto. Everything else (the
 * provider simulator) is fetched over real HTTP.
 */
export class Browser {
  private readonly jar = new Map<string, Map<string, StoredCookie>>()
  private readonly gateway: URL

  constructor (private readonly auth: TestAuth, private readonly ip = '198.51.100.20') {
    this.gateway = new URL(auth.config.PUBLIC_URL)
  }

  /** The gateway's origin (PUBLIC_URL). */
  get gatewayUrl (): string {
    return this.gateway.origin
  }

  cookies (origin: string = this.gateway.origin): StoredCookie[] {
    const now = Date.now()
    return [...(this.jar.get(origin)?.values() ?? [])].filter((c) => c.expiresAt === undefined || c.expiresAt > now)
  }

  cookie (name: string, origin?: string): StoredCookie | undefined {
    return this.cookies(origin).find((c) => c.name === name)
  }

  /** Sets a cookie as if the server had (to replay a stolen or stale one). */
  setCookie (name: string, value: string, origin: string = this.gateway.origin): void {
    this.store(origin, [`${name}=${value}; Path=/`])
  }

  forget (name: string, origin: string = this.gateway.origin): void {
    this.jar.get(origin)?.delete(name)
  }

  private store (origin: string, setCookies: string[]): void {
    const now = Date.now()
    let cookies = this.jar.get(origin)
    if (cookies === undefined) this.jar.set(origin, cookies = new Map())
    for (const raw of setCookies) {
      const cookie = parseSetCookie(raw, now)
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= now) cookies.delete(cookie.name)
      else cookies.set(cookie.name, cookie)
    }
  }

  private cookieHeader (url: URL): string | undefined {
    const matching = this.cookies(url.origin).filter((c) => url.pathname.startsWith(c.path))
    return matching.length === 0 ? undefined : matching.map((c) => `${c.name}=${c.value}`).join('; ')
  }

  /** What the gateway asserts for this browser: the session's user, or an anonymous caller. */
  private async identity (): Promise<string> {
    const session = this.cookie(sessionCookieName(this.auth.config.PUBLIC_URL))
    if (session !== undefined) {
      const id = decodeURIComponent(session.value).split('.')[0]!
      const stored = await this.auth.redis.get(sessionKey(id))
      if (stored !== null) {
        const { userId, role, timezone } = JSON.parse(stored) as { userId: string, role: 'user' | 'admin', timezone: string }
        return signIdentity({ userId, role, timezone, requestId: 'browser', audience: 'auth' }, IDENTITY_SECRET, 30, Date.now(), this.ip)
      }
    }
    return signAssertion({ user: null, requestId: 'browser', clientIp: this.ip, audience: 'auth' }, IDENTITY_SECRET)
  }

  /** One request, no redirect followed. */
  async request (target: string | URL, init: { method?: string, json?: unknown } = {}): Promise<Visit> {
    const url = new URL(target)
    const cookie = this.cookieHeader(url)
    if (url.origin === this.gateway.origin) {
      const res = await this.auth.app.inject({
        method: (init.method ?? 'GET') as 'GET',
        url: `${url.pathname}${url.search}`,
        ...(init.json !== undefined ? { payload: init.json as object } : {}),
        headers: {
          ...(cookie !== undefined ? { cookie } : {}),
          [IDENTITY_HEADER]: await this.identity(),
          'x-forwarded-proto': this.gateway.protocol.slice(0, -1)
        }
      })
      const setCookie = res.headers['set-cookie']
      this.store(url.origin, setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie])
      const location = res.headers.location
      return { url, status: res.statusCode, location: typeof location === 'string' ? new URL(location, url) : undefined, body: res.body, bytes: res.rawPayload, headers: res.headers }
    }
    const res = await fetch(url, { method: init.method ?? 'GET', redirect: 'manual', headers: cookie !== undefined ? { cookie } : {} })
    this.store(url.origin, res.headers.getSetCookie())
    const location = res.headers.get('location')
    return { url, status: res.status, location: location === null ? undefined : new URL(location, url), body: await res.text() }
  }

  /**
   * Follows redirects from `start` while they lead to the gateway's `/auth/*` or to a provider,
   * and stops at the first page elsewhere (the front end) or at a non-redirect. `beforeVisit` may
   * rewrite a URL before it is requested (to answer a provider's consent page as a person would).
   */
  async navigate (start: string | URL, beforeVisit: (url: URL) => URL = (u) => u): Promise<{ final: URL, visits: Visit[] }> {
    const visits: Visit[] = []
    let next: URL | undefined = new URL(start)
    for (let hop = 0; hop < 10 && next !== undefined; hop++) {
      const visit = await this.request(beforeVisit(next))
      visits.push(visit)
      if (visit.status < 300 || visit.status >= 400 || visit.location === undefined) return { final: visit.url, visits }
      next = visit.location
      const onGatewayAuth = next.origin === this.gateway.origin && next.pathname.startsWith('/auth/')
      const onProvider = next.origin !== this.gateway.origin
      if (!onGatewayAuth && !onProvider) return { final: next, visits }
    }
    throw new Error('too many redirects')
  }
}

/** Answers a provider's consent page for `login`, the way the simulator's scripted clients do. */
export function consent (login: string, decision: 'approve' | 'deny' = 'approve') {
  return (url: URL): URL => {
    if (!/\/(authorize|authenticate)$/.test(url.pathname)) return url
    const answered = new URL(url)
    answered.searchParams.set('sim_user', login)
    answered.searchParams.set('sim_decision', decision)
    return answered
  }
}

/** A new browser that signs in with a provider as `login` (approving at the provider); answers the user's id. */
export async function signIn (auth: TestAuth, provider: 'twitch' | 'twitter', login: string, ip?: string): Promise<{ browser: Browser, userId: string }> {
  const browser = new Browser(auth, ip)
  const { final } = await browser.navigate(`${auth.config.PUBLIC_URL}/auth/${provider}/login`, consent(login))
  if (final.searchParams.has('error')) throw new Error(`sign-in with ${provider} failed: ${final.searchParams.get('error')}`)
  return { browser, userId: (await me(browser)).user.id }
}

/** GET /auth/me through the browser. */
export async function me (browser: Browser): Promise<{ status: number, user: { id: string, username: string, displayName: string, connections: Connection[] } }> {
  const res = await browser.request(`${browser.gatewayUrl}/auth/me`)
  return { status: res.status, user: (JSON.parse(res.body) as { user: { id: string, username: string, displayName: string, connections: Connection[] } }).user }
}

/** Starts a Twitch flow in `browser` at `start` and answers the callback URL Twitch sends it to after `login` approves (not followed). */
export async function twitchCallbackUrl (browser: Browser, login = 'sim_mid', start = '/auth/twitch/login'): Promise<URL> {
  const begun = await browser.request(`${browser.gatewayUrl}${start}`)
  const authorize = await browser.request(consent(login)(begun.location!))
  const callback = authorize.location!
  if (!callback.pathname.endsWith('/auth/twitch/callback')) throw new Error(`unexpected redirect ${callback.pathname}`)
  return callback
}

/** Registers `username` with a password in `browser` (which is then logged in); answers the user's id. */
export async function registerWithPassword (browser: Browser, username: string): Promise<string> {
  const res = await browser.request(`${browser.gatewayUrl}/auth/register`, { method: 'POST', json: { username, password: 'a long enough password' } })
  if (res.status !== 201) throw new Error(`register: ${res.status} ${res.body}`)
  return (JSON.parse(res.body) as { user: { id: string } }).user.id
}
