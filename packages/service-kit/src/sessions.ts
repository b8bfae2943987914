import Type, { type TProperties } from 'typebox'
import { DEVELOPMENT_SECRETS } from './config.js'
import type { Role } from './identity.js'

/**
 * Sessions are written by auth (through @fastify/session) and read by the gateway: this is the
 * contract between the two. Keys are relative to the Redis key prefix.
 */
export interface SessionRecord {
  userId: string
  role: Role
  timezone: string
  /** ms since epoch: the absolute lifetime counts from here. */
  createdAt: number
  cookie?: unknown
}

export const sessionKey = (sessionId: string): string => `session:${sessionId}`
export const userSessionsKey = (userId: string): string => `user-sessions:${userId}`
/** Pub/sub channel (not prefixed by ioredis, so the prefix is added here) announcing revoked sessions. */
export const sessionRevokedChannel = (redisPrefix: string): string => `${redisPrefix}session-revoked`

/** `__Host-` cookies are Secure, host-only and path=/ by definition: only when served over HTTPS. */
export function sessionCookieName (publicUrl: string): string {
  return new URL(publicUrl).protocol === 'https:' ? '__Host-pulse_session' : 'pulse_session'
}

export const SessionConfigProperties = {
  /** Signs the session cookie; auth and the gateway share it. */
  SESSION_SECRET: Type.String({ minLength: 32, default: DEVELOPMENT_SECRETS.SESSION_SECRET, 'x-secret': true }),
  SESSION_SECRET_PREVIOUS: Type.Optional(Type.String({ minLength: 32, 'x-secret': true })),
  /** A session unused for this long ends. */
  SESSION_IDLE_TIMEOUT_S: Type.Integer({ minimum: 60, default: 7 * 24 * 3600 }),
  /** A session ends this long after login, used or not. */
  SESSION_ABSOLUTE_TIMEOUT_S: Type.Integer({ minimum: 60, default: 30 * 24 * 3600 }),
  PUBLIC_URL: Type.String({ default: 'http://127.0.0.1:3000', 'x-url-protocols': ['http', 'https'] })
} satisfies TProperties
