import type { Clock } from './clock.js'

interface Budget {
  remaining: number
  /** Ms epoch when the provider says the budget is full again. */
  resetAt: number
}

/**
 * What the provider last said about a budget (Twitch `Ratelimit-Remaining`/`Ratelimit-Reset` per
 * client and user, X `x-rate-limit-*` per endpoint and user), so that a replica does not make a
 * call it already knows would be refused. Per process: replicas learn from their own answers, and
 * a 429 that one of them gets anyway is handled like any other.
 */
export class RateLimitTracker {
  private readonly budgets = new Map<string, Budget>()

  constructor (private readonly now: Clock, private readonly maxEntries = 50_000) {}

  /** Records the headers of an answer; missing or unreadable values leave the budget unknown. */
  record (key: string, remaining: number | undefined, resetAt: number | undefined): void {
    if (remaining === undefined || resetAt === undefined) return
    if (this.budgets.size >= this.maxEntries && !this.budgets.has(key)) this.prune()
    this.budgets.set(key, { remaining, resetAt })
  }

  /** When the budget of `key` can be used again, if it is spent now; undefined when a call may go. */
  blockedUntil (key: string): number | undefined {
    const budget = this.budgets.get(key)
    if (budget === undefined) return undefined
    if (budget.resetAt <= this.now()) {
      this.budgets.delete(key)
      return undefined
    }
    return budget.remaining <= 0 ? budget.resetAt : undefined
  }

  private prune (): void {
    const now = this.now()
    for (const [key, budget] of this.budgets) if (budget.resetAt <= now) this.budgets.delete(key)
    // Still full: forget the oldest half rather than grow without bound.
    if (this.budgets.size >= this.maxEntries) {
      let drop = Math.floor(this.budgets.size / 2)
      for (const key of this.budgets.keys()) {
        if (drop-- <= 0) break
        this.budgets.delete(key)
      }
    }
  }
}

/** A header of Unix epoch seconds (both providers' `…reset`) as ms; undefined when absent or bad. */
export function epochSecondsHeader (value: string | null): number | undefined {
  if (value === null || !/^\d{1,12}$/.test(value.trim())) return undefined
  return Number(value.trim()) * 1000
}

/** A non-negative integer header (`…remaining`); undefined when absent or bad. */
export function countHeader (value: string | null): number | undefined {
  if (value === null || !/^\d{1,12}$/.test(value.trim())) return undefined
  return Number(value.trim())
}
