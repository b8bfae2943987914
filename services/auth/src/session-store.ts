import { sessionKey, sessionRevokedChannel, userSessionsKey, type SessionRecord } from '@pulse/service-kit'
import type { Session } from 'fastify'
import type { Redis } from 'ioredis'

type Callback = (err?: unknown, result?: unknown) => void
type StoredSession = Partial<SessionRecord>

/**
 * @fastify/session's store over the service's Redis client. Only sessions of logged-in users are
 * stored (anonymous traffic leaves nothing behind); each expires after the idle timeout, which the
 * gateway extends on use; a user's session ids are indexed so a profile change reaches all of them;
 * every removal is announced so gateways drop their cached copy at once.
 */
export class RedisSessionStore {
  constructor (
    private readonly redis: Redis,
    private readonly redisPrefix: string,
    private readonly idleTimeoutSeconds: number
  ) {}

  set (sessionId: string, session: object, callback: Callback): void {
    const { userId } = session as StoredSession
    if (typeof userId !== 'string') return callback()
    const record = JSON.stringify(session)
    this.redis.multi()
      .set(sessionKey(sessionId), record, 'EX', this.idleTimeoutSeconds)
      .sadd(userSessionsKey(userId), sessionId)
      .exec()
      .then(() => callback(), callback)
  }

  get (sessionId: string, callback: (err: unknown, result?: Session | null) => void): void {
    this.redis.get(sessionKey(sessionId)).then((value) => callback(null, value === null ? null : JSON.parse(value) as Session), callback)
  }

  destroy (sessionId: string, callback: Callback): void {
    this.remove(sessionId).then(() => callback(), callback)
  }

  async remove (sessionId: string): Promise<void> {
    const value = await this.redis.get(sessionKey(sessionId))
    const multi = this.redis.multi().del(sessionKey(sessionId))
    if (value !== null) {
      const userId = (JSON.parse(value) as StoredSession).userId
      if (typeof userId === 'string') multi.srem(userSessionsKey(userId), sessionId)
    }
    await multi.exec()
    await this.redis.publish(sessionRevokedChannel(this.redisPrefix), sessionId)
  }

  /** Rewrites every live session of a user (after a profile change), keeping their expiry; never revives a removed one. */
  async updateUserSessions (userId: string, patch: Partial<Pick<SessionRecord, 'role' | 'timezone'>>): Promise<void> {
    const ids = await this.redis.smembers(userSessionsKey(userId))
    for (const id of ids) {
      const value = await this.redis.get(sessionKey(id))
      if (value === null) {
        await this.redis.srem(userSessionsKey(userId), id)
        continue
      }
      // XX: a logout that deleted the session since the GET wins; the write is dropped instead of
      // bringing the session back. KEEPTTL: the session keeps its idle expiry.
      const written = await this.redis.set(sessionKey(id), JSON.stringify({ ...JSON.parse(value) as StoredSession, ...patch }), 'KEEPTTL', 'XX')
      if (written === null) {
        await this.redis.srem(userSessionsKey(userId), id)
        continue
      }
      await this.redis.publish(sessionRevokedChannel(this.redisPrefix), id)
    }
  }
}
