import { createHmac, timingSafeEqual } from 'node:crypto'

/** The header the gateway puts the signed identity assertion in; clients' copies are stripped. */
export const IDENTITY_HEADER = 'x-pulse-identity'

export type Role = 'user' | 'admin'

/** Who a request is for, as asserted by the gateway. */
export interface Identity {
  userId: string
  role: Role
  timezone: string
  requestId: string
}

/**
 * What the gateway asserts about every request it forwards: the logged-in user (null when
 * anonymous), the request id, and the client's address as the gateway saw it — so services can
 * rate-limit by address without trusting any client-supplied header.
 */
export interface Assertion {
  user: { userId: string, role: Role, timezone: string } | null
  clientIp: string
  /**
   * The service the assertion is for (its name: `mood`, `auth`…). A service refuses assertions
   * minted for another, so one captured from (or logged by) one service cannot be replayed at another.
   */
  audience: string
  /**
   * Informational only: services take the request id from `x-request-id`. Left out, the gateway can
   * reuse one assertion for many requests of the same user and address.
   */
  requestId?: string
}

interface Claims {
  sub: string | null
  role: Role | null
  tz: string | null
  rid?: string
  ip: string
  aud: string
  iat: number
  exp: number
}

const VERSION = 'v1'
/** Clocks of gateway and service may differ a little; more than this and the assertion is refused. */
const CLOCK_SKEW_SECONDS = 5

function mac (secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(`${VERSION}.${body}`).digest()
}

/**
 * A compact, HMAC-SHA256-signed assertion: `v1.<base64url(claims)>.<base64url(mac)>`. Short-lived
 * (seconds), so a leaked one is of little use; services never see the session cookie.
 */
export function signAssertion (assertion: Assertion, secret: string, ttlSeconds = 30, now = Date.now()): string {
  const iat = Math.floor(now / 1000)
  const { user } = assertion
  const claims: Claims = {
    sub: user?.userId ?? null, role: user?.role ?? null, tz: user?.timezone ?? null, ip: assertion.clientIp, aud: assertion.audience, iat, exp: iat + ttlSeconds,
    ...(assertion.requestId !== undefined ? { rid: assertion.requestId } : {})
  }
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url')
  return `${VERSION}.${body}.${mac(secret, body).toString('base64url')}`
}

/** Shorthand for a logged-in user's assertion for one service (tests, internal calls). */
export function signIdentity (identity: Identity & { audience: string }, secret: string, ttlSeconds = 30, now = Date.now(), clientIp = '127.0.0.1'): string {
  const { requestId, audience, ...user } = identity
  return signAssertion({ user, requestId, clientIp, audience }, secret, ttlSeconds, now)
}

export type VerifyResult = { ok: true, assertion: Assertion, expiresAt: number } | { ok: false, reason: 'missing' | 'malformed' | 'bad-signature' | 'expired' | 'wrong-audience' }

/**
 * Verifies an assertion against the current secret and, during a rotation, the previous one, and
 * that it was minted for `audience` (the verifying service).
 */
export function verifyAssertion (token: string | undefined, secrets: readonly string[], audience: string, now = Date.now()): VerifyResult {
  if (token === undefined || token === '') return { ok: false, reason: 'missing' }
  const parts = token.split('.')
  if (parts.length !== 3 || parts[0] !== VERSION) return { ok: false, reason: 'malformed' }
  const [, body, signature] = parts as [string, string, string]
  const given = Buffer.from(signature, 'base64url')
  const valid = secrets.some((secret) => {
    const expected = mac(secret, body)
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
  if (!valid) return { ok: false, reason: 'bad-signature' }
  let claims: Claims
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Claims
  } catch {
    return { ok: false, reason: 'malformed' }
  }
  if (typeof claims !== 'object' || claims === null || typeof claims.exp !== 'number' || typeof claims.iat !== 'number' ||
      (claims.rid !== undefined && typeof claims.rid !== 'string') || typeof claims.ip !== 'string' || typeof claims.aud !== 'string') {
    return { ok: false, reason: 'malformed' }
  }
  if (claims.aud !== audience) return { ok: false, reason: 'wrong-audience' }
  const seconds = now / 1000
  if (claims.exp + CLOCK_SKEW_SECONDS < seconds || claims.iat - CLOCK_SKEW_SECONDS > seconds) return { ok: false, reason: 'expired' }
  let user: Assertion['user'] = null
  if (claims.sub !== null) {
    if (typeof claims.sub !== 'string' || (claims.role !== 'user' && claims.role !== 'admin') || typeof claims.tz !== 'string') {
      return { ok: false, reason: 'malformed' }
    }
    user = { userId: claims.sub, role: claims.role, timezone: claims.tz }
  }
  return { ok: true, assertion: { user, clientIp: claims.ip, audience: claims.aud, ...(claims.rid !== undefined ? { requestId: claims.rid } : {}) }, expiresAt: (claims.exp + CLOCK_SKEW_SECONDS) * 1000 }
}
