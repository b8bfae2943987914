import { Redis, type RedisOptions } from 'ioredis'

/** Where Redis is: a URL, or Sentinels that name the current primary (REDIS_SENTINELS). */
export interface RedisConnection {
  /** REDIS_URL: the server itself, or, with sentinels, only its login (user, password), database and TLS (`rediss:`). */
  url: string
  /** REDIS_SENTINELS parsed: the Sentinels asked for the primary; empty or absent: connect to `url`. */
  sentinels?: readonly { host: string, port: number }[]
  /** REDIS_SENTINEL_NAME: the primary's name in the Sentinels' configuration. */
  sentinelName?: string
  /** REDIS_SENTINEL_PASSWORD: the Sentinels' own password, where they require one. */
  sentinelPassword?: string
}

/** The settings a service with Redis has (RedisConfigProperties). */
interface RedisSettings {
  REDIS_URL: string
  REDIS_SENTINELS?: string | undefined
  REDIS_SENTINEL_NAME: string
  REDIS_SENTINEL_PASSWORD?: string | undefined
}

/** `host:port,host:port` (a host may be a bracketed IPv6 address) as REDIS_SENTINELS holds it. */
export const SENTINEL_LIST_PATTERN = '^\\s*(\\[[0-9A-Fa-f:.]+\\]|[^\\s,:\\[\\]]+):[0-9]{1,5}\\s*(,\\s*(\\[[0-9A-Fa-f:.]+\\]|[^\\s,:\\[\\]]+):[0-9]{1,5}\\s*)*$'

/** Parses REDIS_SENTINELS (already validated against SENTINEL_LIST_PATTERN). */
export function parseSentinels (list: string): { host: string, port: number }[] {
  return list.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '').map((entry) => {
    const colon = entry.lastIndexOf(':')
    return { host: entry.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(entry.slice(colon + 1)) }
  })
}

/** The Redis connection a service's configuration describes. */
export function redisConnectionOf (config: RedisSettings): RedisConnection {
  return {
    url: config.REDIS_URL,
    sentinels: config.REDIS_SENTINELS === undefined ? [] : parseSentinels(config.REDIS_SENTINELS),
    sentinelName: config.REDIS_SENTINEL_NAME,
    sentinelPassword: config.REDIS_SENTINEL_PASSWORD
  }
}

/**
 * The one place a Redis client is made: to the server of `connection.url`, or through Sentinel to
 * whichever server is the primary now (ioredis asks the Sentinels, checks the server's role, and asks
 * again after every disconnection, so a failover needs no restart). `options` are the caller's
 * (timeouts, queueing, key prefix) and apply either way.
 */
export function createRedisClient (connection: RedisConnection, options: RedisOptions = {}): Redis {
  const sentinels = connection.sentinels ?? []
  if (sentinels.length === 0) return new Redis(connection.url, options)
  const url = new URL(connection.url)
  const tls = url.protocol === 'rediss:'
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined
  return new Redis({
    ...options,
    sentinels: sentinels.map((s) => ({ ...s })),
    name: connection.sentinelName ?? 'mymaster',
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    sentinelPassword: connection.sentinelPassword,
    ...(db === undefined || Number.isNaN(db) ? {} : { db }),
    ...(tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
    // A Sentinel that stops answering must not hold the reconnection: the next one is asked.
    sentinelCommandTimeout: options.connectTimeout ?? 2000,
    // Sentinel announces a new primary (+switch-master): reconnect at once rather than at the
    // next failing command.
    failoverDetector: true,
    // After a failover the old primary comes back as a replica and refuses writes (READONLY) until
    // the connection moves to the new primary: reconnect, which asks the Sentinels again.
    reconnectOnError: (error) => error.message.startsWith('READONLY')
  })
}

/**
 * Closes a client made by createRedisClient: QUIT while connected (what was sent is answered), then
 * disconnect. The second step matters through Sentinel: ioredis 6's `quit()` leaves the failover
 * detector's connections to the Sentinels open and reconnecting, which keeps the process alive;
 * `disconnect()` ends them.
 */
export async function closeRedisClient (client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => {})
  client.disconnect()
}
