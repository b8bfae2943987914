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
