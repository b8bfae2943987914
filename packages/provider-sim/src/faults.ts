/**
 * The test hooks that every provider route goes through: a count of calls per endpoint and
 * failures planned for the next calls of an endpoint. Endpoints are named `METHOD /path`, with
 * route parameters as in the route (`GET /2/users/:id/tweets`).
 */
export type FaultStatus = 500 | 503 | 429

export class CallLog {
  private readonly counts = new Map<string, number>()
  private inFlight = 0
  private mostInFlight = 0
  private busyPeriods = 0
  /** Added before every provider answer (a provider far away); 0 by default. */
  latencyMs = 0

  record (endpoint: string): void {
    this.counts.set(endpoint, (this.counts.get(endpoint) ?? 0) + 1)
  }

  /** A provider call started; answers when it may go on (after the latency). */
  async begin (): Promise<void> {
    if (this.inFlight === 0) this.busyPeriods++
    this.inFlight++
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight)
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs))
  }

  end (): void {
    this.inFlight--
  }

  /** The most provider calls that were in flight at once since the counts were reset. */
  get maxInFlight (): number {
    return this.mostInFlight
  }

  /**
   * How many times a call started while none was in flight, since the counts were reset: for one
   * client alone, the number of sequential round trips ("waves") its calls took.
   */
  get waves (): number {
    return this.busyPeriods
  }

  snapshot (): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)))
  }

  reset (): void {
    this.counts.clear()
    this.mostInFlight = this.inFlight
    this.busyPeriods = 0
  }
}

export class FaultPlan {
  private readonly planned = new Map<string, FaultStatus[]>()

  /** The next `count` calls of `endpoint` fail with `status` (after any failures already planned). */
  failNext (endpoint: string, count: number, status: FaultStatus): void {
    if (!Number.isInteger(count) || count < 0) throw new Error('count must be a whole number ≥ 0')
    if (![500, 503, 429].includes(status)) throw new Error('status must be 500, 503 or 429')
    const queue = this.planned.get(endpoint) ?? []
    for (let i = 0; i < count; i++) queue.push(status)
    this.planned.set(endpoint, queue)
  }

  /** The status this call must fail with, if one is planned. */
  take (endpoint: string): FaultStatus | undefined {
    const queue = this.planned.get(endpoint)
    const status = queue?.shift()
    if (queue !== undefined && queue.length === 0) this.planned.delete(endpoint)
    return status
  }
}
