import { createRedisClient, closeRedisClient, type RedisConnection } from '@pulse/service-kit'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** A JSON value kept in Redis for a while; never a reason for a request to fail. */
export interface LookupCache {
  get: <T>(key: string) => Promise<T | undefined>
  set: (key: string, value: unknown, ttlS: number) => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Redis for the Twitch look-ups (routes/lookups.ts). */
    lookupCache: LookupCache
  }
}

export interface LookupCachePluginOptions extends RedisConnection {
  keyPrefix: string
  commandTimeoutMs: number
}

/**
 * The look-ups' cache in Redis, shared by every replica. It is only a cache: while Redis is down
 * or slow a read is a miss and a write is skipped (the look-up asks Twitch), so it neither gates
 * readiness nor start-up — the client connects and reconnects in the background.
 */
async function lookupCachePlugin (app: FastifyInstance, { keyPrefix, commandTimeoutMs, ...connection }: LookupCachePluginOptions) {
  const client = createRedisClient(connection, {
    keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000)
  })
  const log: FastifyBaseLogger = app.log.child({ part: 'lookup-cache' })
  let warned = false
  const problem = (error: unknown) => {
    // One warning per outage, not one per request.
    if (!warned) log.warn({ err: { message: (error as Error).message } }, 'lookup cache unavailable; asking Twitch directly')
    warned = true
  }
  client.on('error', problem)
  client.on('ready', () => { warned = false })
  app.decorate('lookupCache', {
    get: async <T>(key: string): Promise<T | undefined> => {
      try {
        const raw = await client.get(key)
        return raw === null ? undefined : JSON.parse(raw) as T
      } catch (error) {
        problem(error)
        return undefined
      }
    },
    set: async (key: string, value: unknown, ttlS: number): Promise<void> => {
      try {
        await client.set(key, JSON.stringify(value), 'EX', ttlS)
      } catch (error) {
        problem(error)
      }
    }
  } satisfies LookupCache)
  app.addHook('onClose', async () => { await closeRedisClient(client) })
}

export default fp(lookupCachePlugin, { name: 'twitch-lookup-cache', fastify: '5.x' })
