import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import type { ProviderName } from '../db/database.js'

/**
 * One attempt to connect a provider, bound to the browser that started it and usable once. The
 * server keeps the attempt in Redis for OAUTH_ATTEMPT_TTL_S: where to return, whether it signs in
 * or connects (and for which user), and what the callback must prove. The browser holds the key
 * to it in HttpOnly, SameSite=Lax cookies (Secure and `__Host-` over HTTPS, gone after the TTL).
 *
 * At the callback the attempt is taken: read and deleted in one step (GETDEL) and the cookies
 * cleared, whatever happens next, so it is usable once. It matches only when this browser's
 * cookies name a live attempt, the value the provider echoed equals the one stored with it, and the
 * same user (or nobody) is logged in as when it started: a missing, wrong, replayed or foreign
 * callback fails before anything is sent to the provider. The echoed value is never trusted on its
 * own (docs/pitfalls.md, "OAuth").
 *
 * - Twitch (routes/twitch.ts, through @fastify/oauth2's state hooks and PKCE): the attempt is kept
 *   under its `state`, which the plugin's state cookie carries; the browser's secret is the PKCE
 *   verifier in the plugin's verifier cookie, whose S256 challenge the attempt stores. The state
 *   travels in URLs; the verifier never does.
 * - X (routes/twitter.ts): the browser's cookie holds a random attempt id; the attempt expects the
 *   request token X echoes and keeps the request token secret, encrypted.
 */
export interface AttemptRecord {
  /** 'connect' when a user was logged in at the start (`userId`), else 'sign-in'. */
  mode: 'sign-in' | 'connect'
  userId: string | null
  /** A same-origin path (oauth/return-to.ts), or undefined for the front end's home. */
  returnTo?: string
  /** X: the request token the callback must carry. */
  expect?: string
  /** X: the request token secret, encrypted (tokens/token-cipher.ts). */
  sealedSecret?: { value: string, keyId: string }
  /** Twitch: the S256 challenge of the PKCE verifier this browser holds (RFC 7636 §4.2). */
  challenge?: string
}

export type TakenAttempt =
  | { ok: true, attempt: AttemptRecord }
  /** `returnTo` of this browser's own attempt, when there was one, to send the error back there. */
  | { ok: false, returnTo: string | undefined }

export interface OAuthAttemptsOptions {
  publicUrl: string
  ttlSeconds: number
}

const key = (provider: ProviderName, id: string) => `oauth-attempt:${provider}:${id}`

function sameSecret (a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || a === '' || b === '') return false
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}

/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)). */
export function s256Challenge (verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

/** Who is starting (or finishing) an attempt: the gateway's identity of the request. */
export function starterOf (request: FastifyRequest): Pick<AttemptRecord, 'mode' | 'userId'> {
  const userId = request.identity?.userId ?? null
  return { mode: userId === null ? 'sign-in' : 'connect', userId }
}

export class OAuthAttempts {
  private readonly secure: boolean

  constructor (private readonly redis: Redis, private readonly options: OAuthAttemptsOptions) {
    this.secure = new URL(options.publicUrl).protocol === 'https:'
  }

  /** `__Host-` cookies are Secure, host-only and Path=/ by definition: only over HTTPS. */
  cookieName (provider: ProviderName, part?: 'state'): string {
    return `${this.secure ? '__Host-' : ''}pulse_oauth_${provider}${part === undefined ? '' : `_${part}`}`
  }

  /** The attributes of every attempt cookie (also given to @fastify/oauth2 for its own two). */
  cookieOptions () {
    return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: this.secure, maxAge: this.options.ttlSeconds }
  }

  /** A random value: a state, an attempt id (256 bits). */
  static randomValue (): string {
    return randomBytes(32).toString('base64url')
  }

  /** Keeps an attempt under `id` (Twitch: its state) until the TTL ends or it is taken. */
  async keep (provider: ProviderName, id: string, record: AttemptRecord): Promise<void> {
    await this.redis.set(key(provider, id), JSON.stringify(record), 'EX', this.options.ttlSeconds)
  }

  /**
   * Takes the attempt kept under `id` (once: GETDEL) and checks it against what the callback
   * brought: `echoed` must equal `id` (the state cookie against the `state` Twitch echoed), the
   * browser's PKCE verifier must match the stored challenge, and the same user must be logged in.
   */
  async takeByState (request: FastifyRequest, provider: ProviderName, check: { id: string | undefined, echoed: string | undefined, verifier: string | undefined }): Promise<TakenAttempt> {
    if (check.id === undefined || check.id === '') return { ok: false, returnTo: undefined }
    const raw = await this.redis.getdel(key(provider, check.id))
    if (raw === null) return { ok: false, returnTo: undefined }
    const attempt = JSON.parse(raw) as AttemptRecord
    const bound = check.verifier !== undefined && sameSecret(attempt.challenge, s256Challenge(check.verifier))
    if (!sameSecret(check.id, check.echoed) || !bound || !sameStarter(attempt, request)) return { ok: false, returnTo: attempt.returnTo }
    return { ok: true, attempt }
  }

  /** X: stores the attempt under a random id and gives this browser that id in its cookie. */
  async begin (reply: FastifyReply, provider: ProviderName, record: AttemptRecord): Promise<void> {
    const id = OAuthAttempts.randomValue()
    await this.keep(provider, id, record)
    void reply.setCookie(this.cookieName(provider), id, this.cookieOptions())
  }

  /** X: takes this browser's attempt (once) and checks the value the provider echoed against it. */
  async take (request: FastifyRequest, reply: FastifyReply, provider: ProviderName, echoed: string | undefined): Promise<TakenAttempt> {
    const name = this.cookieName(provider)
    const id = request.cookies[name]
    if (id === undefined || id === '') return { ok: false, returnTo: undefined }
    void reply.clearCookie(name, this.cookieOptions())
    const raw = await this.redis.getdel(key(provider, id))
    if (raw === null) return { ok: false, returnTo: undefined }
    const attempt = JSON.parse(raw) as AttemptRecord
    if (!sameSecret(attempt.expect, echoed) || !sameStarter(attempt, request)) return { ok: false, returnTo: attempt.returnTo }
    return { ok: true, attempt }
  }
}

/**
 * The callback must come from the same signed-in state as the start: a connect attempt finishes
 * only for the user who started it, a sign-in only while nobody is logged in, so a session that
 * changed in between (a logout, another login in this browser) never receives the grant.
 */
function sameStarter (attempt: AttemptRecord, request: FastifyRequest): boolean {
  const now = starterOf(request)
  return attempt.mode === now.mode && attempt.userId === now.userId
}
