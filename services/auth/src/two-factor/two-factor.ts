import { createHash, randomBytes } from 'node:crypto'
import { rateLimitSubject } from '@pulse/service-kit'
import type { Redis } from 'ioredis'
import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { AttemptBudgets, type ThrottleVerdict } from '../login-throttle.js'
import { claimTimeStep, consumeRecoveryCode, findTwoFactor } from '../repositories/two-factor.js'
import type { Totp } from './totp.js'

export interface TwoFactorSettings {
  /** Wrong codes per (account, address) within the window (the login's LOGIN_MAX_FAILURES_PER_ACCOUNT). */
  maxPerAccountAndAddress: number
  /** Wrong codes per account from all addresses within the window (TWO_FACTOR_MAX_FAILURES_PER_ACCOUNT). */
  maxPerAccount: number
  windowSeconds: number
  challengeTtlSeconds: number
}

const challengeKey = (challenge: string) => `two-factor-challenge:${createHash('sha256').update(challenge).digest('hex')}`

/**
 * The second step of a login and every other check of a code. Codes are throttled like passwords
 * (login-throttle.ts): each attempt is counted BEFORE it is checked and given back when right, per
 * (account, address) and, since whoever gets here already knows the password, per account from all
 * addresses too: 10^6 codes cannot be walked through from many addresses.
 */
export class TwoFactorCodes {
  private readonly budgets: AttemptBudgets

  constructor (private readonly db: Kysely<Database>, private readonly redis: Redis, private readonly totp: Totp, private readonly settings: TwoFactorSettings) {
    this.budgets = new AttemptBudgets(redis)
  }

  private keys (userId: string, clientIp: string) {
    return { pair: `two-factor-failures:account:${userId}:${rateLimitSubject(clientIp)}`, account: `two-factor-failures:account:${userId}` }
  }

  /** A login whose password was right waits for its code: the challenge names the user, in Redis only as a hash. */
  async startChallenge (userId: string): Promise<{ challenge: string, expiresAt: string }> {
    const challenge = randomBytes(32).toString('base64url')
    await this.redis.set(challengeKey(challenge), userId, 'EX', this.settings.challengeTtlSeconds)
    return { challenge, expiresAt: new Date(Date.now() + this.settings.challengeTtlSeconds * 1000).toISOString() }
  }

  /** The user a challenge is for, if it is still open (a wrong code leaves it open until it expires). */
  async challengeUser (challenge: string): Promise<string | undefined> {
    return await this.redis.get(challengeKey(challenge)) ?? undefined
  }

  /** Closes a challenge; answers false when another request closed it first (the login is not completed twice). */
  async closeChallenge (challenge: string): Promise<boolean> {
    return await this.redis.del(challengeKey(challenge)) === 1
  }

  /**
   * Checks a code of an account with two-factor on: a current TOTP code not used before, or an unused
   * recovery code (used up by this). Throttled: `{ allowed: false }` when the budget is spent.
   */
  async check (userId: string, code: string, clientIp: string): Promise<ThrottleVerdict & { ok?: boolean }> {
    const keys = this.keys(userId, clientIp)
    const verdict = await this.budgets.take([{ key: keys.pair, max: this.settings.maxPerAccountAndAddress }, { key: keys.account, max: this.settings.maxPerAccount }], this.settings.windowSeconds)
    if (!verdict.allowed) return verdict
    const ok = await this.matches(userId, code)
    if (ok) {
      await this.budgets.giveBack([keys.account])
      await this.redis.del(keys.pair)
    }
    return { allowed: true, ok }
  }

  private async matches (userId: string, code: string): Promise<boolean> {
    const row = await findTwoFactor(this.db, userId)
    if (row === undefined) return false
    const trimmed = code.trim()
    if (/^[0-9]{6}$/.test(trimmed)) {
      const step = await this.totp.check(this.totp.open(userId, row), trimmed, row.last_time_step === null ? null : Number(row.last_time_step))
      return step !== undefined && await claimTimeStep(this.db, userId, step)
    }
    return row.enabled_at !== null && await consumeRecoveryCode(this.db, userId, trimmed)
  }
}
