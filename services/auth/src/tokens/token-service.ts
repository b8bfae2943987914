import { ConnectionInvalidatedV1, type TokenReply, type TokenRequest } from '@pulse/contracts'
import { enqueueEvent, isDependencyUnavailable } from '@pulse/service-kit'
import type { FastifyBaseLogger } from 'fastify'
import type { Kysely, Transaction } from 'kysely'
import type { Database, ProviderName } from '../db/database.js'
import { GrantRejected, ProviderUnavailable } from '../providers/http.js'
import type { TwitchClient, TwitchTokenAnswer } from '../providers/twitch.js'
import { grantLeaseName, releaseLease, takeLease } from '../repositories/leases.js'
import { findConnection, lockGrant, markConnectionInvalid, updateConnectionTokens, type ConnectionRow } from '../repositories/connections.js'
import type { ProviderTokens, TokenStore } from './token-store.js'

export interface TokenServiceDeps {
  db: Kysely<Database>
  store: TokenStore
  twitch: TwitchClient
  /** Wakes the outbox relay after a commit that enqueued an event. */
  wakeOutbox: () => void
  log: FastifyBaseLogger
  /** The clock expiries are computed with (tests align it with the simulator's). */
  now: () => number
  refreshMarginMs: number
  /** How long a refresh may hold its grant's lease (a provider call and two short queries), and how long another waits for it. */
  leaseTtlMs: number
}

type Failure = Extract<TokenReply, { ok: false }>

const failure = (error: Failure['error'], message: string): Failure => ({ ok: false, error, message })

/**
 * Hands out usable provider tokens (the NATS request-reply of TOKEN_REQUEST_SUBJECTS) and keeps
 * them usable: Twitch tokens are refreshed when they expire within the margin or when a caller
 * reports the current one rejected; a grant the provider refuses is marked invalid and announced.
 *
 * Refreshes of one user's grant are serialised across every auth replica by the grant's lease
 * (repositories/leases.ts): the refresher takes the lease, reads the row again and refreshes only
 * if it still needs it. A replica that waited behind another one's refresh finds the new token and
 * returns it, so concurrent requests make ONE call to Twitch —
 * which matters because Twitch's refresh tokens rotate: the second of two racing refreshes would
 * present a spent refresh token and lose the grant.
 */
export class TokenService {
  constructor (private readonly deps: TokenServiceDeps) {}

  async handle (request: TokenRequest): Promise<TokenReply> {
    try {
      return await this.tokenFor(request)
    } catch (error) {
      if (error instanceof ProviderUnavailable) {
        this.deps.log.warn({ provider: request.provider, call: error.call, status: error.status }, 'provider unavailable while handing out a token')
        return failure('unavailable', `${request.provider} could not be reached; try again later`)
      }
      if (isDependencyUnavailable(error)) {
        this.deps.log.warn({ err: { message: (error as Error).message } }, 'database unavailable while handing out a token')
        return failure('unavailable', 'auth could not reach its database; try again later')
      }
      throw error
    }
  }

  private async tokenFor ({ userId, provider, rejectedAccessToken }: TokenRequest): Promise<TokenReply> {
    const row = await findConnection(this.deps.db, userId, provider)
    if (row === undefined) return failure('not_connected', `user has no ${provider} connection`)
    if (row.status === 'invalid') return failure('invalid_grant', `the ${provider} connection is no longer valid; the user must connect again`)
    const tokens = this.deps.store.open(row)
    if (provider === 'twitter') {
      // X OAuth 1.0a tokens never expire: a 401 with the current one means the user revoked it.
      if (rejectedAccessToken !== undefined && rejectedAccessToken === tokens.accessToken) {
        return await this.invalidate(userId, provider, rejectedAccessToken, 'rejected_by_provider')
      }
      return this.reply(row, tokens)
    }
    if (!this.needsRefresh(tokens, rejectedAccessToken)) return this.reply(row, tokens)
    return await this.refreshTwitch(userId, rejectedAccessToken)
  }

  private needsRefresh (tokens: ProviderTokens, rejectedAccessToken: string | undefined): boolean {
    if (rejectedAccessToken !== undefined && rejectedAccessToken === tokens.accessToken) return true
    return tokens.expiresAt !== null && tokens.expiresAt.getTime() - this.deps.refreshMarginMs <= this.deps.now()
  }

  /**
   * Refreshes a Twitch grant under the grant's lease (see the class comment). `rejected` is the
   * access token a caller saw refused; once the lease is held it is compared with the stored one again.
   * No transaction is open and no connection held while Twitch answers: the row is read, Twitch
   * called, and the answer written in a short transaction that first checks the row still holds
   * the tokens that were refreshed (a sign-in may have renewed them meanwhile; then those win).
   */
  async refreshTwitch (userId: string, rejected: string | undefined): Promise<TokenReply> {
    const lease = await takeLease(this.deps.db, grantLeaseName(userId, 'twitch'), this.deps.leaseTtlMs, this.deps.leaseTtlMs)
    if (lease === undefined) throw new ProviderUnavailable('twitch refresh', undefined, new Error('another refresh of this grant did not finish'))
    try {
      const outcome = await this.refreshHolding(userId, rejected)
      if (outcome.event) this.deps.wakeOutbox()
      return outcome.reply
    } finally {
      await releaseLease(this.deps.db, lease).catch((error: unknown) => {
        this.deps.log.warn({ userId, err: { message: (error as Error).message } }, 'could not give back a grant lease; it expires on its own')
      })
    }
  }

  private async refreshHolding (userId: string, rejected: string | undefined): Promise<{ reply: TokenReply, event: boolean }> {
    const row = await findConnection(this.deps.db, userId, 'twitch')
    if (row === undefined) return { reply: failure('not_connected', 'user has no twitch connection'), event: false }
    if (row.status === 'invalid') return { reply: failure('invalid_grant', 'the twitch connection is no longer valid; the user must connect again'), event: false }
    const tokens = this.deps.store.open(row)
    // Another request (on this replica or another) refreshed while this one waited for the lease.
    if (!this.needsRefresh(tokens, rejected)) return { reply: this.reply(row, tokens), event: false }
    let fresh: TwitchTokenAnswer | undefined
    if (tokens.refreshToken !== null) {
      try {
        fresh = await this.deps.twitch.refresh(tokens.refreshToken)
      } catch (error) {
        if (!(error instanceof GrantRejected)) throw error
        this.deps.log.info({ userId, provider: 'twitch', status: error.status }, 'twitch refused the refresh; connection marked invalid')
      }
    }
    return await this.deps.db.transaction().execute(async (trx): Promise<{ reply: TokenReply, event: boolean }> => {
      await lockGrant(trx, userId, 'twitch')
      const current = await findConnection(trx, userId, 'twitch')
      if (current === undefined) return { reply: failure('not_connected', 'user has no twitch connection'), event: false }
      if (current.access_token !== row.access_token || current.refresh_token !== row.refresh_token) {
        // Renewed by a sign-in (or unlinked and connected again) while Twitch answered: the stored grant is the newer one.
        if (current.status === 'invalid') return { reply: failure('invalid_grant', 'the twitch connection is no longer valid; the user must connect again'), event: false }
        return { reply: this.reply(current, this.deps.store.open(current)), event: false }
      }
      if (fresh === undefined) return { reply: await this.markInvalid(trx, current, tokens.refreshToken === null ? 'no_refresh_token' : 'refresh_rejected'), event: true }
      const renewed: ProviderTokens = {
        accessToken: fresh.accessToken,
        // Twitch may rotate the refresh token: the old one stops working, so the new one is stored every time.
        refreshToken: fresh.refreshToken ?? tokens.refreshToken,
        tokenSecret: null,
        expiresAt: fresh.expiresIn === undefined ? null : new Date(this.deps.now() + fresh.expiresIn * 1000),
        scopes: fresh.scopes.length > 0 ? fresh.scopes : tokens.scopes
      }
      const updated = await updateConnectionTokens(trx, current.id, this.deps.store.seal('twitch', current.provider_user_id, renewed))
      this.deps.log.info({ userId, provider: 'twitch' }, 'twitch token refreshed')
      return { reply: this.reply(updated ?? current, renewed), event: false }
    })
  }

  /** The provider refused a token that cannot be refreshed (X): invalid, announced, `invalid_grant`. */
  private async invalidate (userId: string, provider: ProviderName, rejected: string, reason: string): Promise<TokenReply> {
    const outcome = await this.deps.db.transaction().execute(async (trx) => {
      await lockGrant(trx, userId, provider)
      const row = await findConnection(trx, userId, provider)
      if (row === undefined) return { reply: failure('not_connected', `user has no ${provider} connection`), event: false }
      if (row.status === 'invalid') return { reply: failure('invalid_grant', `the ${provider} connection is no longer valid; the user must connect again`), event: false }
      const tokens = this.deps.store.open(row)
      // Reconnected meanwhile: the new token is the answer.
      if (tokens.accessToken !== rejected) return { reply: this.reply(row, tokens), event: false }
      this.deps.log.info({ userId, provider }, 'provider rejected the token; connection marked invalid')
      return { reply: await this.markInvalid(trx, row, reason), event: true }
    })
    if (outcome.event) this.deps.wakeOutbox()
    return outcome.reply
  }

  private async markInvalid (trx: Transaction<Database>, row: ConnectionRow, reason: string): Promise<Failure> {
    await markConnectionInvalid(trx, row.id)
    await enqueueEvent(trx, ConnectionInvalidatedV1, { userId: row.user_id, provider: row.provider, reason, invalidatedAt: new Date().toISOString() })
    return failure('invalid_grant', `the ${row.provider} grant was refused; the user must connect again`)
  }

  private reply (row: ConnectionRow, tokens: ProviderTokens): TokenReply {
    return {
      ok: true,
      provider: row.provider,
      providerUserId: row.provider_user_id,
      providerLogin: row.provider_login,
      accessToken: tokens.accessToken,
      ...(tokens.tokenSecret !== null ? { tokenSecret: tokens.tokenSecret } : {}),
      expiresAt: tokens.expiresAt === null ? null : tokens.expiresAt.toISOString(),
      scopes: tokens.scopes
    }
  }
}
