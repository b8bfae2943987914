import { sessionKey, sessionRevokedChannel, userSessionsKey } from '@pulse/service-kit'
import type { Redis } from 'ioredis'

/**
 * Ends every session of a user (an account deletion): each is deleted and announced on the
 * revocation channel, so every gateway drops its cached copy and closes the session's live event
 * streams at once, as for a logout. Idempotent: a user without sessions is a no-op.
 */
export async function endUserSessions (redis: Redis, redisPrefix: string, userId: string): Promise<number> {
  const ids = await redis.smembers(userSessionsKey(userId))
  for (const id of ids) {
    await redis.del(sessionKey(id))
    await redis.publish(sessionRevokedChannel(redisPrefix), id)
  }
  await redis.del(userSessionsKey(userId))
  return ids.length
}
