import { rateLimitSubject } from '@pulse/service-kit'
import type { Redis, Result } from 'ioredis'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** See TAKE_SCRIPT: 0 when the attempt was counted, else the seconds until the fullest budget has room. */
    authTakeAttempt(numKeys: number, ...args: (string | number)[]): Result<number, Context>
    /** See GIVE_BACK_SCRIPT. */
    authGiveBackAttempt(numKeys: number, ...args: (string | number)[]): Result<number, Context>
  }
}

/**
 * Checks every budget (KEYS[i], ARGV[i + 1] attempts per ARGV[1] seconds) and, only when all have
 * room, counts the attempt in each, in one step: concurrent attempts cannot all read "room left"
 * before any of them is counted.
 */
const TAKE_SCRIPT = `
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('TTL', key)
    if ttl < 1 then ttl = window end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, window, 'NX')
end
return 0`

/** Takes an attempt back from each budget (never below zero): it turned out not to be a failure. */
const GIVE_BACK_SCRIPT = `
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0`

export type ThrottleVerdict = { allowed: true } | { allowed: false, retryAfterSeconds: number }

/** Attempts counted in Redis per window, several budgets taken at once (see TAKE_SCRIPT). */
export class AttemptBudgets {
  constructor (private readonly redis: Redis) {
    if (typeof (redis as Partial<Redis>).authTakeAttempt !== 'function') {
      redis.defineCommand('authTakeAttempt', { lua: TAKE_SCRIPT })
      redis.defineCommand('authGiveBackAttempt', { lua: GIVE_BACK_SCRIPT })
    }
  }

  async take (budgets: { key: string, max: number }[], windowSeconds: number): Promise<ThrottleVerdict> {
    const wait = await this.redis.authTakeAttempt(budgets.length, ...budgets.map((b) => b.key), windowSeconds, ...budgets.map((b) => b.max))
    return wait === 0 ? { allowed: true } : { allowed: false, retryAfterSeconds: wait }
  }

  async giveBack (keys: string[]): Promise<void> {
    await this.redis.authGiveBackAttempt(keys.length, ...keys)
  }
}

export interface ThrottleSettings {
  maxPerAccount: number
  maxPerAddress: number
  windowSeconds: number
}

/**
 * Login attempts are counted per (account, address) and per address BEFORE the password is
 * verified, and given back when it was right: so at most the budget's worth of guesses ever reach
 * argon2, however many arrive at once. Counting per account alone would let an attacker lock a
 * victim out by failing on purpose; per (account, address) only slows the address that fails, so
 * the right password still works from anywhere else. Guessing one account from many addresses is
 * bounded by each address's budget and by argon2's cost. Unknown usernames are counted exactly like
 * real ones, so throttling reveals nothing.
 *
 * The address is the client's (an IPv6 address by its /64), whether or not the request carries a
 * session: accounts made for the purpose must not multiply one address's budget.
 */
export class LoginThrottle {
  private readonly budgets: AttemptBudgets

  constructor (private readonly redis: Redis, private readonly settings: ThrottleSettings) {
    this.budgets = new AttemptBudgets(redis)
  }

  private keys (username: string, clientIp: string) {
    const address = rateLimitSubject(clientIp)
    return { pair: `login-failures:account:${username.toLowerCase()}:${address}`, address: `login-failures:address:${address}` }
  }

  /** Counts one attempt; refused (nothing counted) when either budget is spent. */
  async attempt (username: string, clientIp: string): Promise<ThrottleVerdict> {
    const keys = this.keys(username, clientIp)
    return await this.budgets.take([{ key: keys.pair, max: this.settings.maxPerAccount }, { key: keys.address, max: this.settings.maxPerAddress }], this.settings.windowSeconds)
  }

  /** The password was right: the attempt was not a failure, and this pair's failures are forgotten. */
  async succeeded (username: string, clientIp: string): Promise<void> {
    const keys = this.keys(username, clientIp)
    await this.budgets.giveBack([keys.address])
    await this.redis.del(keys.pair)
  }
}

export interface AddressLimitSettings {
  /** The Redis key's name for this limit. */
  name: string
  max: number
  windowSeconds: number
}

/** A plain per-address budget (registrations, X request tokens): every attempt counts. */
export class AddressLimit {
  private readonly budgets: AttemptBudgets

  constructor (redis: Redis, private readonly settings: AddressLimitSettings) {
    this.budgets = new AttemptBudgets(redis)
  }

  async attempt (clientIp: string): Promise<ThrottleVerdict> {
    return await this.budgets.take([{ key: `${this.settings.name}:address:${rateLimitSubject(clientIp)}`, max: this.settings.max }], this.settings.windowSeconds)
  }
}
