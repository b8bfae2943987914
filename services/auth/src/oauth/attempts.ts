import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import type { ProviderName } from '../db/database.js'

/**
 * One attempt to connect a provider, bound to the browser that started it. The browser gets a
 * random attempt id in an HttpOnly, SameSite=Lax cookie (Secure and `__Host-` over HTTPS, gone
 * after OAUTH_ATTEMPT_TTL_S); the server keeps, under that id, what the provider must echo back
 * (Twitch's `state`, X's request token), where to return, and any secret of the attempt.
 *
 * At the callback the attempt is taken: read and deleted in one step (GETDEL) and the cookie
 * cleared, whatever happens next, so it is usable once. It matches only when this browser's
 * cookie names a live attempt AND the value the provider echoed equals the one stored with it:
 * a missing, wrong, replayed or foreign `state` (one from another browser's attempt) fails before
 * anything is sent to the provider. The echoed value is never trusted on its own (docs/pitfalls.md, "OAuth").
 */
export interface AttemptRecord {
  /** What the callback must carry: Twitch's state, X's oauth_token. */
  expect: string
  /** A same-origin path (oauth/return-to.ts), or undefined for the front end's home. */
  returnTo?: string
  /** X: the request token secret, encrypted (tokens/token-cipher.ts). */
  sealedSecret?: { value: string, keyId: string }
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

function sameSecret (a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}

export class OAuthAttempts {
  private readonly secure: boolean

  constructor (private readonly redis: Redis, private readonly options: OAuthAttemptsOptions) {
    this.secure = new URL(options.publicUrl).protocol === 'https:'
  }

  /** `__Host-` cookies are Secure, host-only and Path=/ by definition: only over HTTPS. */
  cookieName (provider: ProviderName): string {
    return `${this.secure ? '__Host-' : ''}pulse_oauth_${provider}`
  }

  private cookieOptions () {
    return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: this.secure }
  }

  /** A random value for the provider to echo (Twitch's state). */
  static randomValue (): string {
    return randomBytes(32).toString('base64url')
  }

  /** Stores the attempt and gives this browser its cookie. */
  async begin (reply: FastifyReply, provider: ProviderName, record: AttemptRecord): Promise<void> {
    const id = OAuthAttempts.randomValue()
    await this.redis.set(key(provider, id), JSON.stringify(record), 'EX', this.options.ttlSeconds)
    void reply.setCookie(this.cookieName(provider), id, { ...this.cookieOptions(), maxAge: this.options.ttlSeconds })
  }

  /** Takes this browser's attempt (once) and checks the value the provider echoed against it. */
  async take (request: FastifyRequest, reply: FastifyReply, provider: ProviderName, echoed: string | undefined): Promise<TakenAttempt> {
    const name = this.cookieName(provider)
    const id = request.cookies[name]
    if (id === undefined || id === '') return { ok: false, returnTo: undefined }
    void reply.clearCookie(name, this.cookieOptions())
    const raw = await this.redis.getdel(key(provider, id))
    if (raw === null) return { ok: false, returnTo: undefined }
    const attempt = JSON.parse(raw) as AttemptRecord
    if (echoed === undefined || echoed === '' || !sameSecret(attempt.expect, echoed)) return { ok: false, returnTo: attempt.returnTo }
    return { ok: true, attempt }
  }
}
