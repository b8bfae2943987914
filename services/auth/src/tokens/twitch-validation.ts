import { sql, type Kysely } from 'kysely'
import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../db/database.js'
import { ProviderUnavailable } from '../providers/http.js'
import type { TwitchClient } from '../providers/twitch.js'
import { pageActiveConnections, type ConnectionRow } from '../repositories/connections.js'
import { extendLease, releaseLease, tryTakeLease } from '../repositories/leases.js'
import type { TokenService } from './token-service.js'
import type { TokenStore } from './token-store.js'

export interface ValidationRound {
  /** False when another replica held the round's lock. */
  ran: boolean
  checked: number
  /** Tokens Twitch refused at /validate that a refresh brought back. */
  refreshed: number
  /** Connections marked invalid (and announced) in this round. */
  invalidated: number
  /** Tokens that could not be checked now (Twitch unreachable); the next round tries again. */
  skipped: number
}

export interface TwitchValidatorDeps {
  db: Kysely<Database>
  store: TokenStore
  twitch: TwitchClient
  tokens: TokenService
  log: FastifyBaseLogger
  intervalSeconds: number
  concurrency: number
}

const JOB = 'twitch-validate'
const PAGE = 200
const ROUND_LEASE = 'twitch-validate-round'
/** Long enough for a page of tokens at the configured concurrency; extended after every page. */
const ROUND_LEASE_TTL_MS = 10 * 60_000

/**
 * Twitch: "Your app must validate the OAuth token when it starts and on an hourly basis
 * thereafter"; a token /validate refuses means the user disconnected the app (docs/providers.md §1.1).
 *
 * Every replica ticks, but one round runs per interval for the whole deployment: a tick claims the
 * round in `job_runs` (an atomic upsert that succeeds only when the last round started at least an
 * interval ago, less one tick), and the round itself runs under a lease (repositories/leases.ts)
 * (skipped when another replica holds it), so rounds never overlap even if one outlasts the
 * interval. A fresh deployment (or one whose last round is older than the interval) validates at
 * once at start-up.
 *
 * A token /validate refuses gets one refresh (it may only have expired); if Twitch refuses that
 * too, the connection is marked invalid and ConnectionInvalidatedV1 is emitted (TokenService).
 */
export class TwitchValidator {
  private timer: NodeJS.Timeout | undefined
  private current: Promise<unknown> | undefined
  private stopped = false

  constructor (private readonly deps: TwitchValidatorDeps) {}

  /** How often a replica looks whether a round is due: a tenth of the interval, between 1 s and 1 min. */
  private get tickMs (): number {
    return Math.min(60_000, Math.max(1000, this.deps.intervalSeconds * 100))
  }

  start (): void {
    this.stopped = false
    const tick = () => {
      this.current = this.tick().catch((error: unknown) => {
        this.deps.log.warn({ err: { message: (error as Error).message } }, 'twitch validation tick failed; will try again')
      }).finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.tickMs)
      })
    }
    tick()
  }

  /** Resolves once the tick in progress (the start-up one, say) is over. */
  async idle (): Promise<void> {
    await this.current
  }

  async stop (): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.current
  }

  /** Runs a round if it is due (claimed for this replica). */
  async tick (): Promise<ValidationRound | undefined> {
    const thresholdSeconds = Math.max(0, this.deps.intervalSeconds - this.tickMs / 1000)
    const claimed = await sql<{ name: string }>`
      insert into job_runs (name, last_started_at) values (${JOB}, now())
      on conflict (name) do update set last_started_at = excluded.last_started_at
      where job_runs.last_started_at <= now() - make_interval(secs => ${thresholdSeconds})
      returning name`.execute(this.deps.db)
    if (claimed.rows.length === 0) return undefined
    return await this.runRound()
  }

  /**
   * Validates every active Twitch token once, unless another replica is running a round. The round
   * holds a lease (extended after each page), not a connection: the /validate calls must not keep
   * a pooled connection from requests.
   */
  async runRound (): Promise<ValidationRound> {
    const lease = await tryTakeLease(this.deps.db, ROUND_LEASE, ROUND_LEASE_TTL_MS)
    if (lease === undefined) return { ran: false, checked: 0, refreshed: 0, invalidated: 0, skipped: 0 }
    try {
      return await this.validateAll(async () => { await extendLease(this.deps.db, lease, ROUND_LEASE_TTL_MS) })
    } finally {
      await releaseLease(this.deps.db, lease)
    }
  }

  private async validateAll (pageDone: () => Promise<void>): Promise<ValidationRound> {
    const round: ValidationRound = { ran: true, checked: 0, refreshed: 0, invalidated: 0, skipped: 0 }
    let after: string | undefined
    while (!this.stopped) {
      const page = await pageActiveConnections(this.deps.db, 'twitch', after, PAGE)
      if (page.length === 0) break
      after = page[page.length - 1]!.id
      let next = 0
      const worker = async () => {
        while (next < page.length && !this.stopped) {
          const row = page[next++]!
          await this.validateOne(row, round)
        }
      }
      await Promise.all(Array.from({ length: Math.min(this.deps.concurrency, page.length) }, worker))
      await pageDone()
    }
    this.deps.log.info({ ...round }, 'twitch token validation round done')
    return round
  }

  private async validateOne (row: ConnectionRow, round: ValidationRound): Promise<void> {
    round.checked++
    try {
      const { accessToken } = this.deps.store.open(row)
      if (await this.deps.twitch.validate(accessToken)) return
      const reply = await this.deps.tokens.refreshTwitch(row.user_id, accessToken)
      if (reply.ok) round.refreshed++
      else if (reply.error === 'invalid_grant') round.invalidated++
    } catch (error) {
      round.skipped++
      // One connection that cannot be checked (Twitch down, a key missing) does not stop the round.
      if (error instanceof ProviderUnavailable) this.deps.log.warn({ userId: row.user_id, call: error.call, status: error.status }, 'could not validate a twitch token now')
      else this.deps.log.error({ userId: row.user_id, err: { message: (error as Error).message } }, 'twitch token validation failed')
    }
  }
}
