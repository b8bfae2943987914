import type { Redis } from 'ioredis'

export interface ThrottleSettings {
  maxPerAccount: number
  maxPerAddress: number
  windowSeconds: number
}

export type ThrottleVerdict = { allowed: true } | { allowed: false, retryAfterSeconds: number }

/**
 * Failed logins are counted per (account, address) and per address. Counting per account alone
 * would let an attacker lock a victim out by failing on purpose; per (account, address) only
 * slows the address that fails, so the right password still works from anywhere else. Guessing
 * one account from many addresses is bounded by each address's budget and by argon2's cost.
 * Unknown usernames are counted exactly like real ones, so throttling reveals nothing.
 */
export class LoginThrottle {
  constructor (private readonly redis: Redis, private readonly settings: ThrottleSettings) {}

  private keys (username: string, address: string) {
    const account = username.toLowerCase()
    return { pair: `login-failures:account:${account}:${address}`, address: `login-failures:address:${address}` }
  }

  async check (username: string, address: string): Promise<ThrottleVerdict> {
    const keys = this.keys(username, address)
    const [pair, addr] = await this.redis.mget(keys.pair, keys.address)
    const over = [
      Number(pair ?? 0) >= this.settings.maxPerAccount ? keys.pair : undefined,
      Number(addr ?? 0) >= this.settings.maxPerAddress ? keys.address : undefined
    ].filter((k): k is string => k !== undefined)
    if (over.length === 0) return { allowed: true }
    const ttls = await Promise.all(over.map((k) => this.redis.ttl(k)))
    return { allowed: false, retryAfterSeconds: Math.max(1, ...ttls) }
  }

  async recordFailure (username: string, address: string): Promise<void> {
    const keys = this.keys(username, address)
    const window = this.settings.windowSeconds
    await this.redis.multi()
      .incr(keys.pair).expire(keys.pair, window, 'NX')
      .incr(keys.address).expire(keys.address, window, 'NX')
      .exec()
  }

  async recordSuccess (username: string, address: string): Promise<void> {
    await this.redis.del(this.keys(username, address).pair)
  }
}
