import { randomUUID } from 'node:crypto'
import { enqueueEvent, type EventContext } from '@pulse/service-kit'
import { classifyRefreshError, type FailureReason } from '../provider-errors.js'
import {
  findTrackedAccount, isRefreshProcessed, isUserDeleted, lockTrackedAccount, recordProcessedRefresh, recordRefreshFailure, recordRefreshSuccess
} from '../repositories.js'
import { ProviderSession } from '../session.js'
import { requestProviderToken } from '../token-client.js'
import type { PipelineContext, RefreshRequest } from './types.js'

const DEFAULT_MESSAGES: Record<FailureReason, (provider: string) => string> = {
  rate_limited: (p) => `${p} kept refusing calls because of its rate limit; the next refresh will try again`,
  token_revoked: (p) => `${p} no longer accepts this connection; connect the account again`,
  provider_unavailable: (p) => `${p} is unavailable; the next refresh will try again`,
  not_connected: (p) => `No ${p} account is connected`,
  internal: (p) => `The ${p} refresh failed on our side; the next refresh will try again`
}

/**
 * The handler of refresh requests: token from auth, fetch, snapshot + event in one transaction,
 * exactly once per request; transient failures are postponed, final ones reported.
 */
export function refreshHandler<R> ({ app, db, log, options }: PipelineContext<R>) {
  const { provider, contracts, adapter, now, metrics } = options

  const fail = async (request: RefreshRequest, reason: FailureReason, detail: string, invalidate: boolean) => {
    const failedAt = new Date(now())
    const payload = { userId: request.userId, provider, reason, message: DEFAULT_MESSAGES[reason](options.providerName), failedAt: failedAt.toISOString() }
    const recorded = await db.transaction().execute(async (trx) => {
      const tracked = await lockTrackedAccount(trx, request.userId)
      // Nothing to record for a user no longer tracked; the event still says why nothing happened.
      if (tracked !== undefined) {
        const first = await recordProcessedRefresh(trx, {
          userId: request.userId, requestedAt: new Date(request.requestedAt), reason: request.reason, outcome: 'failed', failureReason: reason
        })
        if (!first) return false
        await recordRefreshFailure(trx, request.userId, reason, failedAt, invalidate)
      } else if (await isUserDeleted(trx, request.userId)) {
        // Nobody to tell, and no row may name a deleted user again.
        return false
      }
      await enqueueEvent(trx, contracts.failed, payload)
      return true
    })
    if (recorded) app.outbox.wake()
    if (recorded) metrics?.refreshFailed(reason)
    log.warn({ userId: request.userId, requestedAt: request.requestedAt, reason, detail }, 'refresh failed')
  }

  const store = async (request: RefreshRequest, result: R): Promise<'stored' | 'duplicate' | 'untracked'> => {
    const snapshot = { id: randomUUID(), userId: request.userId, capturedAt: new Date(now()) }
    const outcome = await db.transaction().execute(async (trx) => {
      // Locked: an unlink waits for this transaction, or this one finds the account gone.
      if (await lockTrackedAccount(trx, request.userId) === undefined) return 'untracked' as const
      const first = await recordProcessedRefresh(trx, {
        userId: request.userId, requestedAt: new Date(request.requestedAt), reason: request.reason, outcome: 'refreshed', snapshotId: snapshot.id
      })
      if (!first) return 'duplicate' as const
      await adapter.store(trx, snapshot, result)
      await recordRefreshSuccess(trx, request.userId, snapshot.capturedAt)
      await enqueueEvent(trx, contracts.refreshed, { userId: request.userId, provider, capturedAt: snapshot.capturedAt.toISOString(), snapshotId: snapshot.id })
      return 'stored' as const
    })
    if (outcome === 'stored') app.outbox.wake()
    return outcome
  }

  const redeliveryDelay = (delivery: number) =>
    Math.min(options.redeliveryMaxMs, options.redeliveryBaseMs * 2 ** Math.max(0, Math.min(delivery - 1, 20)))

  const handle = async (request: RefreshRequest, ctx: EventContext): Promise<'stored' | 'duplicate' | 'failed' | 'postponed'> => {
    const requestedAt = new Date(request.requestedAt)
    const context = { userId: request.userId, requestedAt: request.requestedAt, reason: request.reason, delivery: ctx.redeliveryCount }
    if (await isRefreshProcessed(db, request.userId, requestedAt)) {
      log.info(context, 'refresh request already handled')
      return 'duplicate'
    }
    const account = await findTrackedAccount(db, request.userId)
    if (account === undefined) {
      await fail(request, 'not_connected', 'the account is not tracked (never linked, or unlinked)', false)
      return 'failed'
    }
    try {
      const session = await ProviderSession.open((rejectedAccessToken) => requestProviderToken(app.nats, {
        userId: request.userId, provider, ...(rejectedAccessToken === undefined ? {} : { rejectedAccessToken })
      }, options.tokenRequestTimeoutMs))
      const result = await adapter.fetch(session, account, log)
      const outcome = await store(request, result)
      if (outcome === 'untracked') await fail(request, 'not_connected', 'the account was unlinked during the refresh', false)
      log.info({ ...context, outcome }, 'refresh handled')
      return outcome === 'untracked' ? 'failed' : outcome
    } catch (error) {
      const decision = classifyRefreshError(error)
      const age = now() - requestedAt.getTime()
      if (decision.kind === 'final') {
        await fail(request, decision.reason, decision.message, decision.invalidate)
        return 'failed'
      }
      if (age < options.giveUpAfterMs) {
        if (decision.kind === 'unexpected') throw error // the consumer redelivers with its own backoff
        const delay = decision.retryAt !== undefined
          ? Math.max(250, decision.retryAt - now()) + Math.floor(Math.random() * 250)
          : redeliveryDelay(ctx.redeliveryCount)
        log.warn({ ...context, reason: decision.reason, detail: decision.message, retryInMs: delay }, 'refresh postponed')
        ctx.retryLater(delay)
        metrics?.refreshPostponed(decision.reason)
        return 'postponed'
      }
      const reason = decision.kind === 'retry' ? decision.reason : 'internal'
      if (decision.kind === 'unexpected') log.error({ ...context, err: error }, 'refresh failed unexpectedly')
      await fail(request, reason, `${decision.message} (gave up ${Math.round(age / 1000)} s after the request)`, false)
      return 'failed'
    }
  }

  return async (request: RefreshRequest, ctx: EventContext): Promise<void> => {
    const started = performance.now()
    let outcome: Parameters<NonNullable<typeof metrics>['refreshHandled']>[0] = 'error'
    try {
      outcome = await handle(request, ctx)
    } finally {
      metrics?.refreshHandled(outcome, (performance.now() - started) / 1000)
    }
  }
}
