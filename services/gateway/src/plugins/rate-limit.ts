import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { GatewayRateLimitedError } from '../errors.js'
import { gatewayMetricsOf } from '../metrics.js'

interface Counter {
  /** Requests counted here and not yet added to Redis. */
  pending: number
  /** The count in Redis (every replica's requests) at the last sync. */
  shared: number
  resetAt: number
  max: number
}

/**
 * Request counts whose budget is shared by every gateway replica through Redis, without
 * a Redis round trip per request. Each replica counts locally and, every `syncMs`, adds its counts to
 * Redis (INCRBY + PEXPIRE NX) and reads back the totals; keys past half their budget are also re-read
 * when idle here, so the other replicas' requests are seen within `syncMs` where it matters. While
 * Redis is unreachable each replica keeps limiting by what it counts itself. One budget per key for
 * the whole API, not per route.
 */
export function createBatchedRedisCounter (redis: Redis, { syncMs, windowMs, prefix = 'rate-limit:', onError }: { syncMs: number, windowMs: number, prefix?: string, onError?: (err: unknown) => void }) {
  const counters = new Map<string, Counter>()
  let timer: NodeJS.Timeout | undefined

  async function sync () {
    timer = undefined
    const now = Date.now()
    const batch: [string, Counter, number][] = []
    for (const [key, c] of counters) {
      if (c.resetAt <= now && c.pending === 0) counters.delete(key)
      else if (c.pending > 0 || c.shared * 2 >= c.max) batch.push([key, c, c.pending])
    }
    if (batch.length > 0) {
      const multi = redis.multi()
      for (const [key, , sent] of batch) {
        if (sent > 0) multi.incrby(prefix + key, sent).pexpire(prefix + key, windowMs, 'NX')
        else multi.get(prefix + key).pexpire(prefix + key, windowMs, 'NX')
        multi.pttl(prefix + key)
      }
      try {
        const results = await multi.exec()
        batch.forEach(([, c, sent], i) => {
          const total = Number(results?.[i * 3]?.[1] ?? 0)
          const ttl = Number(results?.[i * 3 + 2]?.[1] ?? windowMs)
          c.pending -= sent
          c.shared = total
          c.resetAt = Date.now() + (ttl > 0 ? ttl : windowMs)
        })
      } catch (error) {
        onError?.(error)
      }
    }
    schedule()
  }

  function schedule () {
    if (timer === undefined && counters.size > 0) {
      timer = setTimeout(() => { void sync() }, syncMs)
      timer.unref()
    }
  }

  return {
    /** Counts one request for `key`; returns the count in this window (every replica's) and ms until it resets. */
    hit (key: string, max: number): { current: number, ttl: number } {
      const now = Date.now()
      let c = counters.get(key)
      if (c === undefined || c.resetAt <= now) {
        c = { pending: 0, shared: 0, resetAt: now + windowMs, max }
        counters.set(key, c)
      }
      c.pending++
      schedule()
      return { current: c.shared + c.pending, ttl: c.resetAt - now }
    }
  }
}

export interface RateLimitOptions {
  syncMs: number
  windowMs: number
  perUser: number
  perAddress: number
  /** The budget of one address for the provider webhooks (`/webhooks/…`), counted apart from the rest. */
  webhooksPerAddress: number
}

/**
 * One budget per user (logged in) or per client address (anonymous) for the whole API, shared by the
 * replicas through Redis (createBatchedRedisCounter). A synchronous hook after the session hook: the
 * count is local, so a promise per request (as @fastify/rate-limit's async hook chain costs) buys
 * nothing. Probes are never limited; provider webhooks have a per-address budget of their own. Answers carry `x-ratelimit-limit|remaining|reset`, and a 429
 * `retry-after`. While Redis is unreachable each replica keeps limiting by what it counts itself.
 */
async function rateLimitPlugin (app: FastifyInstance, options: RateLimitOptions) {
  const counter = createBatchedRedisCounter(app.redis, {
    syncMs: options.syncMs,
    windowMs: options.windowMs,
    onError: (err) => app.log.warn({ err }, 'rate-limit sync failed')
  })
  const metrics = gatewayMetricsOf(app.metrics)
  app.addHook('onRequest', (request, reply, done) => {
    if (request.url === '/health' || request.url === '/ready') { done(); return }
    const user = request.user
    // A provider's deliveries carry no session and come from a few addresses: their own budget.
    const subject = request.url.startsWith('/webhooks/') ? 'webhook' : user !== null ? 'user' : 'address'
    const max = subject === 'webhook' ? options.webhooksPerAddress : subject === 'user' ? options.perUser : options.perAddress
    const { current, ttl } = counter.hit(subject === 'user' ? `user:${user!.userId}` : `${subject}:${request.ip}`, max)
    const resetS = Math.ceil(ttl / 1000)
    void reply.header('x-ratelimit-limit', max)
    void reply.header('x-ratelimit-remaining', current >= max ? 0 : max - current)
    void reply.header('x-ratelimit-reset', resetS)
    if (current > max) {
      void reply.header('retry-after', resetS)
      metrics?.rateLimited.inc({ subject })
      done(new GatewayRateLimitedError(resetS))
      return
    }
    done()
  })
}

export default fp(rateLimitPlugin, { name: 'gateway-rate-limit', fastify: '5.x', dependencies: ['pulse-redis', 'gateway-sessions'] })
