import { Redis } from 'ioredis'
import { testInfra } from './infra.js'
import { uniqueName, type Teardown } from './isolation.js'

/**
 * A client of a key space of its own on the test Redis (every key under `prefix`, a unique name
 * from `label`); when the test ends its keys are deleted and the client is closed.
 */
export async function testRedisKeySpace (t: Teardown, label: string): Promise<{ redis: Redis, prefix: string }> {
  const infra = await testInfra()
  const prefix = `${uniqueName(label)}:`
  const redis = new Redis(infra.redisUrl, { keyPrefix: prefix })
  t.teardown(async () => {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)))
    redis.disconnect()
  })
  return { redis, prefix }
}
