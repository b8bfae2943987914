/** Polls until `fn` holds or `ms` pass; answers whether it held (checked once more at the end). */
export async function eventually (fn: () => boolean | Promise<boolean>, ms: number, intervalMs = 50): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await fn()) return true
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
  return await fn()
}

/** Waits `ms` for anything that should not happen (a second event, a late write) to show up. */
export const settle = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/**
 * Waits until nothing more can happen without a new cause, and answers whether that came within
 * `ms`: the outbox holds no unsent event and every consumer of the test's streams has delivered and
 * had acknowledged every message (the kit's `EventBus.settled`), twice in a row a poll apart, so an
 * event published by the last handler is seen. This is how a test proves that something did NOT
 * happen (no second event, no retry) without sleeping for a guessed time.
 */
export async function drained (bus: { settled: () => Promise<boolean> }, unsent: () => Promise<number>, ms = 20_000): Promise<boolean> {
  let streak = 0
  return await eventually(async () => {
    streak = (await unsent()) === 0 && await bus.settled() ? streak + 1 : 0
    return streak >= 2
  }, ms, 100)
}
