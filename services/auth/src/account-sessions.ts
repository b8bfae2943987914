import { createHash } from 'node:crypto'
import { sessionKey, userSessionsKey, type SessionRecord } from '@pulse/service-kit'
import type { SessionInfo } from '@pulse/contracts'
import type { Redis } from 'ioredis'
import type { RedisSessionStore } from './session-store.js'

/**
 * A session's public name: a hash of its id. The id itself never leaves the cookie (with the cookie's
 * signature it is the session), so the list shows a name that cannot be turned back into it.
 */
export const sessionHandle = (sessionId: string): string => createHash('sha256').update(sessionId).digest('base64url').slice(0, 22)

interface StoredSession extends Partial<SessionRecord> {
  clientIp?: string
  userAgent?: string
}

/**
 * A user's sessions as Redis holds them. There is no "last used" field to keep up to date: the
 * gateway resets a session's expiry to SESSION_IDLE_TIMEOUT_S at each use (GETEX), so the time left
 * tells when it was last used.
 */
export class AccountSessions {
  constructor (private readonly redis: Redis, private readonly store: RedisSessionStore, private readonly idleTimeoutSeconds: number) {}

  private async live (userId: string): Promise<{ id: string, session: StoredSession, ttlMs: number }[]> {
    const ids = await this.redis.smembers(userSessionsKey(userId))
    const out: { id: string, session: StoredSession, ttlMs: number }[] = []
    for (const id of ids) {
      const [[, value], [, ttl]] = await this.redis.multi().get(sessionKey(id)).pttl(sessionKey(id)).exec() as [[null, string | null], [null, number]]
      if (value === null) {
        await this.redis.srem(userSessionsKey(userId), id)
        continue
      }
      out.push({ id, session: JSON.parse(value) as StoredSession, ttlMs: ttl })
    }
    return out
  }

  async list (userId: string, currentSessionId: string | undefined, now = Date.now()): Promise<SessionInfo[]> {
    const sessions = await this.live(userId)
    return sessions.map(({ id, session, ttlMs }) => {
      const createdAt = session.createdAt ?? now
      const lastUsed = ttlMs > 0 ? Math.max(createdAt, now - (this.idleTimeoutSeconds * 1000 - ttlMs)) : createdAt
      return {
        id: sessionHandle(id),
        createdAt: new Date(createdAt).toISOString(),
        lastUsedAt: new Date(Math.floor(lastUsed / 1000) * 1000).toISOString(),
        clientIp: session.clientIp ?? null,
        userAgent: session.userAgent ?? null,
        current: id === currentSessionId
      }
    }).sort((a, b) => Number(b.current) - Number(a.current) || b.lastUsedAt.localeCompare(a.lastUsedAt))
  }

  /** The session id behind a handle of the user's, if it is one of theirs. */
  async find (userId: string, handle: string): Promise<string | undefined> {
    const ids = await this.redis.smembers(userSessionsKey(userId))
    return ids.find((id) => sessionHandle(id) === handle)
  }

  /**
   * Ends sessions of the user (all but `keep`): each is deleted and announced on the revocation
   * channel, so every gateway forgets it at once and closes its live event streams.
   */
  async endAll (userId: string, keep?: string): Promise<number> {
    const ids = await this.redis.smembers(userSessionsKey(userId))
    let ended = 0
    for (const id of ids) {
      if (id === keep) continue
      await this.store.remove(id)
      ended++
    }
    return ended
  }

  async end (sessionId: string): Promise<void> {
    await this.store.remove(sessionId)
  }
}
