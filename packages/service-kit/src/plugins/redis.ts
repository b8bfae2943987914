import fastifyRedis from '@fastify/redis'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { closeRedisClient, createRedisClient, type RedisConnection } from '../redis.js'
import { instrumentRedis } from '../metrics.js'

export interface RedisPluginOptions extends RedisConnection {
  /** Prepended to every key (unique per test file). */
  keyPrefix?: string
  /** A command not answered in this time is rejected (REDIS_COMMAND_TIMEOUT_MS). */
  commandTimeoutMs?: number
}

/**
 * Redis through @fastify/redis with a client that fails fast: while Redis is unreachable a command
 * is rejected at once (no offline queue, one retry), so a request answers 503 instead of hanging,
 * and the client keeps reconnecting in the background. A Redis that stops answering without closing
 * the connection (a stalled network, a stuck server) is caught by the command timeout: the command
 * is rejected and the request answers 503 too. Through Sentinel (REDIS_SENTINELS) the same holds
 * during a failover: commands fail at once until the new primary answers, then the client uses it.
 */
async function redisPlugin (app: FastifyInstance, { keyPrefix = '', commandTimeoutMs = 500, ...connection }: RedisPluginOptions) {
  const client = createRedisClient(connection, {
    keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000)
  })
  instrumentRedis(app.metrics, client as unknown as Parameters<typeof instrumentRedis>[1])
  client.on('error', (err) => app.log.warn({ err: { message: err.message } }, 'redis error'))
  await client.connect()
  await app.register(fastifyRedis, { client, closeClient: false })
  app.addHook('onClose', async () => { await closeRedisClient(client) })
  app.readiness.set('redis', async () => { await client.ping() })
}

export default fp(redisPlugin, { name: 'pulse-redis', fastify: '5.x', dependencies: ['pulse-health', 'pulse-metrics'] })
