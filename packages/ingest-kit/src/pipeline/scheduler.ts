import { enqueueEvent } from '@pulse/service-kit'
import {
  REFRESH_SLOTS, claimManualRefresh, claimSchedulerProgress, deleteOldBookkeeping, listDueAccounts, recordSchedulerProgress
} from '../repositories.js'
import type { PipelineContext } from './types.js'

/** The slots due in one refresh window: [from, to) of `refresh_slot`, and when that window began. */
export interface DueSlots { windowStart: number, from: number, to: number }

const S = BigInt(REFRESH_SLOTS)
const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b

/** When an account of this slot is due in the window that begins at `windowStart`. */
export function dueAt (windowStart: number, slot: number, intervalMs: number): number {
  return windowStart + Number(BigInt(slot) * BigInt(intervalMs) / S)
}

/**
 * The slots whose due time is in (after, through]: one range per refresh window the span touches
 * (at most two, as the span is never longer than the interval). Integer arithmetic, so that every
 * due time falls in exactly one of two adjacent spans.
 */
export function dueSlots (after: number, through: number, intervalMs: number): DueSlots[] {
  const interval = BigInt(intervalMs)
  const slotAfter = (offset: number) => offset < 0 ? 0n : (ceilDiv(BigInt(offset) * S, interval) > S ? S : ceilDiv(BigInt(offset) * S, interval))
  const ranges: DueSlots[] = []
  for (let w = Math.floor(after / intervalMs); w <= Math.floor(through / intervalMs); w++) {
    const windowStart = w * intervalMs
    // Slot s is due at windowStart + floor(s × interval / S): after `after` from the first slot with
    // s × interval ≥ (after − windowStart + 1) × S, up to `through` below the first with
    // s × interval ≥ (through − windowStart + 1) × S.
    const from = slotAfter(after - windowStart + 1)
    const to = slotAfter(through - windowStart + 1)
    if (from < to) ranges.push({ windowStart, from: Number(from), to: Number(to) })
  }
  return ranges
}

/**
 * Periodic and manual refresh requests. Each tracked account has a stable slot in the refresh
 * interval (`refresh_slot`, from its user id), so scheduled refreshes are spread over the interval
 * instead of all starting with it. A tick requests the accounts due since the previous tick — an
 * index range, read in keyset pages — and only the replica that locks the progress row does it
 * (the others skip the tick). A request's time is the account's due time, the same for every
 * replica and retry, so its message id still lets JetStream drop a second copy (a tick that failed
 * after publishing part of its accounts is repeated whole), and the processed-request table
 * catches any later one.
 */
export function scheduler<R> ({ app, db, log, options }: PipelineContext<R>) {
  const { provider, contracts, now } = options
  const intervalMs = options.refreshIntervalMs

  const runSchedulerTick = async (): Promise<number> => {
    const at = now()
    const outcome = await db.transaction().execute(async (trx) => {
      const progress = await claimSchedulerProgress(trx)
      if (progress === 'locked') return undefined // another replica is doing this tick
      const previous = progress.scheduledThrough?.getTime()
      // Down for longer than an interval (or the first tick): every account once, not once per missed window.
      const after = Math.max(previous ?? -Infinity, at - intervalMs)
      if (at <= after) return { published: 0, newWindow: false }
      let published = 0
      for (const range of dueSlots(after, at, intervalMs)) {
        let last: { userId: string, slot: number } | undefined
        for (;;) {
          const page = await listDueAccounts(trx, range, last, options.scheduler.pageSize)
          // One page's publishes at once: each waits for the stream's acknowledgement.
          await Promise.all(page.map(async ({ userId, slot }) => {
            const requestedAt = new Date(dueAt(range.windowStart, slot, intervalMs)).toISOString()
            await app.nats.publish(contracts.requested, { userId, reason: 'scheduled', requestedAt }, { msgID: `${provider}:${userId}:${requestedAt}` })
          }))
          published += page.length
          if (page.length < options.scheduler.pageSize) break
          last = page[page.length - 1]
        }
      }
      await recordSchedulerProgress(trx, new Date(at))
      return { published, newWindow: previous === undefined || Math.floor(previous / intervalMs) !== Math.floor(at / intervalMs) }
    })
    if (outcome === undefined) return 0
    // Once per window is enough for the clean-up (its rows are days old).
    if (outcome.newWindow) await deleteOldBookkeeping(db, new Date(at - options.bookkeepingRetentionMs))
    if (outcome.published > 0) log.info({ through: new Date(at).toISOString(), published: outcome.published }, 'scheduled refreshes requested')
    return outcome.published
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
