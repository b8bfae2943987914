import { claimManualRefresh, deleteOldBookkeeping, listSchedulableUserIds } from '../repositories.js'
import { enqueueEvent } from '@pulse/service-kit'
import type { PipelineContext } from './types.js'

/**
 * Periodic and manual refresh requests. Every replica publishes the same message ids per window;
 * JetStream keeps one (within its de-duplication window) and the processed-request table catches
 * any later copy.
 */
export function scheduler<R> ({ app, db, log, options }: PipelineContext<R>) {
  const { provider, contracts, now } = options

  let lastWindow: number | undefined
  const runSchedulerTick = async (): Promise<number> => {
    const at = now()
    const windowStart = Math.floor(at / options.refreshIntervalMs) * options.refreshIntervalMs
    if (lastWindow === windowStart) return 0
    const requestedAt = new Date(windowStart).toISOString()
    let published = 0
    let after: string | undefined
    for (;;) {
      const userIds = await listSchedulableUserIds(db, after, options.scheduler.pageSize)
      for (const userId of userIds) {
        await app.nats.publish(contracts.requested, { userId, reason: 'scheduled', requestedAt }, { msgID: `${provider}:${userId}:${requestedAt}` })
        published++
      }
      if (userIds.length < options.scheduler.pageSize) break
      after = userIds[userIds.length - 1]
    }
    lastWindow = windowStart
    await deleteOldBookkeeping(db, new Date(at - options.bookkeepingRetentionMs))
    if (published > 0) log.info({ window: requestedAt, published }, 'scheduled refreshes requested')
    return published
  }

  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const tick = () => runSchedulerTick().catch((err: unknown) => log.warn({ err }, 'scheduler tick failed; retrying at the next tick'))
  const loop = () => {
    timer = setTimeout(() => {
      void tick().finally(() => {
        if (!stopped) loop()
      })
    }, options.scheduler.tickMs)
    timer.unref()
  }

  const requestManualRefresh = async (userId: string) => {
    const requestedAt = new Date(now())
    const claim = await db.transaction().execute(async (trx) => {
      const result = await claimManualRefresh(trx, userId, requestedAt, options.manualRefreshMinIntervalMs)
      if (result.outcome === 'claimed') await enqueueEvent(trx, contracts.requested, { userId, reason: 'manual', requestedAt: requestedAt.toISOString() })
      return result
    })
    if (claim.outcome === 'claimed') app.outbox.wake()
    return { ...claim, requestedAt }
  }

  return {
    runSchedulerTick,
    requestManualRefresh,
    start () {
      void tick()
      loop()
    },
    stop () {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
    }
  }
}
