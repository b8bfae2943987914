/**
 * Fixed-window request budgets. Twitch: 800 points a minute per client and user (docs/providers.md
 * §1.4). X: a number of calls per 15-minute window per endpoint and user or app (§2.6). Windows run
 * on the simulator's clock, so tests reach the reset by advancing it instead of waiting.
 */
export interface RateWindow {
  limit: number
  remaining: number
  /** When the budget is full again, ms on the simulator's clock. */
  resetAt: number
}

export interface RateDecision extends RateWindow {
  allowed: boolean
}

interface Bucket { start: number, used: number }

export class FixedWindowLimiter {
  private readonly buckets = new Map<string, Bucket>()

  constructor (readonly limit: number, readonly windowMs: number) {}

  private current (key: string, now: number): Bucket | undefined {
    const bucket = this.buckets.get(key)
    // A window that has ended is over; so is one the clock was set back past by more than a
    // window (a test moving the clock back a little keeps the budget it has spent).
    if (bucket === undefined || now >= bucket.start + this.windowMs || now < bucket.start - this.windowMs) return undefined
    return bucket
  }

  /** Spends `cost` from the key's budget if it has that much left. */
  take (key: string, now: number, cost = 1): RateDecision {
    let bucket = this.current(key, now)
    if (bucket === undefined) {
      if (this.buckets.size > 10_000) this.sweep(now)
      bucket = { start: now, used: 0 }
      this.buckets.set(key, bucket)
    }
    const allowed = bucket.used + cost <= this.limit
    if (allowed) bucket.used += cost
    return { allowed, limit: this.limit, remaining: this.limit - bucket.used, resetAt: bucket.start + this.windowMs }
  }

  /** The key's budget without spending any; an unused key has a full budget. */
  peek (key: string, now: number): RateWindow {
    const bucket = this.current(key, now)
    return bucket === undefined
      ? { limit: this.limit, remaining: this.limit, resetAt: now + this.windowMs }
      : { limit: this.limit, remaining: this.limit - bucket.used, resetAt: bucket.start + this.windowMs }
  }

  private sweep (now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (now >= bucket.start + this.windowMs || now < bucket.start - this.windowMs) this.buckets.delete(key)
    }
  }
}

/** Reset times go out as whole Unix seconds, rounded up so "wait until reset" is never early. */
export function resetSeconds (ms: number): number {
  return Math.ceil(ms / 1000)
}
