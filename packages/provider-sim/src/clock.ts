/**
 * The simulator's clock. It runs with real time from wherever it was last set, so a simulator
 * left running shows growth as hours pass; tests set or advance it instead of sleeping.
 */
export const HOUR_MS = 3_600_000

export class SimClock {
  private offsetMs: number

  constructor (startTime: number = Date.now()) {
    this.offsetMs = startTime - Date.now()
  }

  now (): number {
    return Date.now() + this.offsetMs
  }

  set (ms: number): void {
    if (!Number.isFinite(ms)) throw new Error('clock time must be a finite number of milliseconds')
    this.offsetMs = ms - Date.now()
  }

  advance (ms: number): void {
    if (!Number.isFinite(ms)) throw new Error('clock advance must be a finite number of milliseconds')
    this.offsetMs += ms
  }

  /** The index of the current simulated hour: every metric is a function of it. */
  hour (): number {
    return Math.floor(this.now() / HOUR_MS)
  }
}

export function hourStart (hour: number): number {
  return hour * HOUR_MS
}

/** RFC 3339 as Twitch writes it: whole seconds, `Z`. */
export function twitchTime (ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
}

/** X writes milliseconds: `2024-01-15T10:00:00.000Z`. */
export function xTime (ms: number): string {
  return new Date(ms).toISOString()
}
