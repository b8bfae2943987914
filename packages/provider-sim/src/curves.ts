/**
 * Metrics as functions of the simulated hour. A curve gives a whole number for every hour offset
 * `d` from the world's anchor hour; `value(curve, 0)` is the curve's base. Because the input is a
 * whole hour, two reads within the same simulated hour always agree.
 *
 * Before the anchor a curve is linear (so every account's history starts from zero at some point);
 * after it, growth slowly levels off (tanh over about two years), so the sizes docs/api.md promises
 * ("tens of thousands of followers", "a few hundred") still hold years after the anchor.
 */
export interface Curve {
  /** The value at the anchor hour. */
  base: number
  /** Average change per hour. */
  perHour: number
  /**
   * Daily rhythm, as a fraction of `perHour` (0..1): growth is faster at some hours of the day
   * than at others. At most 1 keeps the curve monotone, which lists built from it rely on.
   */
  dailySwing: number
  /** Hours to shift the daily rhythm, so accounts do not all peak at the same hour. */
  phase: number
  /** Amplitude of a weekly wave in units; non-zero makes the curve go up and down. */
  weeklyWave: number
}

export const FLAT_ZERO: Curve = { base: 0, perHour: 0, dailySwing: 0, phase: 0, weeklyWave: 0 }

const DAY = 24
const WEEK = 168
const TAU = Math.PI * 2

const LEVELLING_HOURS = 17_520

function rhythm (curve: Curve, d: number): number {
  const swing = (x: number) => Math.sin((TAU * (x + curve.phase)) / DAY) * (DAY / TAU)
  // Monotone in d when dailySwing ≤ 1; the levelling keeps it monotone (tanh is increasing).
  const hours = d + curve.dailySwing * (swing(d) - swing(0))
  return curve.perHour * (hours <= 0 ? hours : LEVELLING_HOURS * Math.tanh(hours / LEVELLING_HOURS))
}

function wave (curve: Curve, d: number): number {
  if (curve.weeklyWave === 0) return 0
  const at = (x: number) => Math.sin((TAU * (x + curve.phase)) / WEEK)
  return curve.weeklyWave * (at(d) - at(0))
}

/** The curve's whole value `d` hours after the anchor (negative `d`: before it). Never below 0. */
export function curveValue (curve: Curve, d: number): number {
  return Math.max(0, curve.base + Math.floor(rhythm(curve, d) + wave(curve, d)))
}

const FAR = 2 ** 22 // about 478 years in hours: further than any clock a test will set

/**
 * The first hour offset at which a monotone curve exceeds `k`: when the (k+1)-th follower
 * followed, the (k+1)-th post was written. Infinity if it never does.
 */
export function firstHourAbove (curve: Curve, k: number): number {
  if (curve.perHour <= 0 || curve.weeklyWave !== 0) {
    return curve.base > k && curve.weeklyWave === 0 && curve.perHour === 0 ? -FAR : Infinity
  }
  if (curveValue(curve, FAR) <= k) return Infinity
  let lo = -FAR
  let hi = FAR
  if (curveValue(curve, lo) > k) return lo
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (curveValue(curve, mid) > k) hi = mid
    else lo = mid
  }
  return hi
}

/**
 * When the k-th item (0 = oldest) of a monotone curve appeared, in ms: inside the hour before the
 * one in which the curve first counts it, evenly spaced among the items of that hour, so items
 * keep their order and none has a time after the start of the hour in which it becomes visible.
 */
export function itemTime (curve: Curve, k: number, anchorHour: number): number {
  const d = firstHourAbove(curve, k)
  if (!Number.isFinite(d)) return Infinity
  const before = curveValue(curve, d - 1)
  const after = curveValue(curve, d)
  const hourMs = 3_600_000
  const slot = Math.floor((hourMs * (k - before + 0.5)) / Math.max(1, after - before))
  return (anchorHour + d - 1) * hourMs + slot
}
