import type { Redis } from 'ioredis'

interface Counter {
  /** Requests counted here and not yet added to Redis. */
  pending: number
  /** The count in Redis (every replica's requests) at the last sync. */
  shared: number
  resetAt: number
  max: number
}

type IncrCallback = (err: Error | null, result?: { current: number, ttl: number }) => void

/**
 * A @fastify/rate-limit store whose budget is shared by every gateway replica through Redis, without
 * a Redis round trip per request. Each replica counts locally and, every `syncMs`, adds its counts to
 * Redis (INCRBY + PEXPIRE NX) and reads back the totals; keys past half their budget are also re-read
 * when idle here, so the other replicas' requests are seen within `syncMs` where it matters. While
 * Redis is unreachable each replica keeps limiting by what it counts itself. One budget per key for
 * the whole API, not per route.
 */
export function createBatchedRedisStore (redis: Redis, { syncMs, prefix = 'rate-limit:', onError }: { syncMs: number, prefix?: string, onError?: (err: unknown) => void }) {
  const counters = new Map<string, Counter>()
  let windowMs = 60_000
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

  return class BatchedRedisStore {
    incr (key: string, callback: IncrCallback, timeWindow: number, max: number): void {
      windowMs = timeWindow
      const now = Date.now()
      let c = counters.get(key)
      if (c === undefined || c.resetAt <= now) {
        c = { pending: 0, shared: 0, resetAt: now + timeWindow, max }
        counters.set(key, c)
      }
      c.pending++
      schedule()
      callback(null, { current: c.shared + c.pending, ttl: c.resetAt - now })
    }

    child (): this {
      return this
    }
  }
}
