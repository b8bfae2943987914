import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis, Result } from 'ioredis'
import { closeRedisClient, createRedisClient, rateLimitSubject, type RedisConnection } from '@pulse/service-kit'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** See HIT_SCRIPT; answers [allowed (1|0), messages counted, ms left in the window]. */
    contactRateLimitHit(key: string, windowMs: number, max: number, message: string): Result<[number, number, number], Context>
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    rateLimiter: AddressRateLimiter
  }
}

/**
 * A fixed window per address, atomic in one script. The window holds the set of messages counted
 * in it (an Idempotency-Key, or a random id when there is none): a retry of a counted message is
 * let through without counting again, a refused message is not counted, so the set never holds
 * more than `max` members. The first message starts the window's expiry; a window somehow left
 * without one gets it (it would otherwise block the address forever).
 */
const HIT_SCRIPT = `
local key, windowMs, max, message = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local function ttl ()
  local left = redis.call('PTTL', key)
  if left < 0 then
    redis.call('PEXPIRE', key, windowMs)
    left = windowMs
  end
  return left
end
if redis.call('SISMEMBER', key, message) == 1 then
  return { 1, redis.call('SCARD', key), ttl() }
end
local count = redis.call('SCARD', key)
if count >= max then
  return { 0, count, ttl() }
end
redis.call('SADD', key, message)
return { 1, count + 1, ttl() }
`

export type RateLimitDecision =
  | { outcome: 'allowed', count: number }
  | { outcome: 'limited', retryAfterSeconds: number }
  /** Redis did not answer: the message is accepted without a check (never lose one to the limiter). */
  | { outcome: 'unchecked' }

export interface AddressRateLimiterOptions {
  max: number
  windowMs: number
}

export class AddressRateLimiter {
  constructor (private readonly redis: Redis, private readonly options: AddressRateLimiterOptions) {}

  /**
   * Counts one message from this address and says whether it may be stored. `idempotencyKey`
   * identifies retries of one message, which count once. Never throws: without Redis, 'unchecked'.
   */
  async hit (address: string, idempotencyKey: string | undefined, log: FastifyBaseLogger): Promise<RateLimitDecision> {
    const { max, windowMs } = this.options
    const message = idempotencyKey === undefined ? `r:${randomUUID()}` : `k:${idempotencyKey}`
    let allowed: number
    let count: number
    let ttl: number
    try {
      [allowed, count, ttl] = await this.redis.contactRateLimitHit(`contact:rate:${rateLimitSubject(address)}`, windowMs, max, message)
    } catch (error) {
      log.warn({ err: { message: (error as Error).message } }, 'rate limit not checked: Redis unavailable; message accepted')
      return { outcome: 'unchecked' }
    }
    if (allowed === 1) return { outcome: 'allowed', count }
    return { outcome: 'limited', retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) }
  }
}

export interface RateLimiterPluginOptions extends AddressRateLimiterOptions, RedisConnection {
  keyPrefix: string
  /** How long a hit waits for Redis before the message goes through unchecked. */
  timeoutMs: number
}

/**
 * The per-address limit of POST /contact, in Redis. Redis is optional for this service: when it is
 * down at start-up or later, messages are accepted unchecked (with a warning) and the client keeps
 * reconnecting in the background. For the same reason Redis is not one of the /ready checks: a
 * replica that can store messages must keep receiving them.
 */
async function rateLimiterPlugin (app: FastifyInstance, { url, sentinels, sentinelName, sentinelPassword, keyPrefix, timeoutMs, ...options }: RateLimiterPluginOptions) {
  const redis = createRedisClient({ url, sentinels, sentinelName, sentinelPassword }, {
    keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: timeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000)
  })
  redis.defineCommand('contactRateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT })
  redis.on('error', (err) => app.log.warn({ err: { message: err.message } }, 'redis error'))
  try {
    await redis.connect()
  } catch (error) {
    app.log.warn({ err: { message: (error as Error).message } }, 'redis unreachable at start-up; messages are not rate-limited until it answers')
  }
  app.decorate('rateLimiter', new AddressRateLimiter(redis, options))
  app.addHook('onClose', async () => { await closeRedisClient(redis) })
}

export default fp(rateLimiterPlugin, { name: 'contact-rate-limiter', fastify: '5.x' })
