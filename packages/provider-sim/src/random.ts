/**
 * Seeded randomness for the simulated data. Nothing in the data may come from Math.random: the
 * same seed must give the same users, numbers and texts on every machine.
 */

/** mulberry32: a tiny, fast 32-bit PRNG with a good enough distribution for test data. */
export function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A stable 32-bit hash of its parts (FNV-1a, then murmur3's finaliser for avalanche). Lazily built
 * data (the ten-thousandth follower, a post's like count) is derived from `hash32(seed, …)` so it
 * does not depend on the order in which things were asked for.
 */
export function hash32 (...parts: Array<string | number>): number {
  let h = 0x811C9DC5
  const text = parts.join('\u0000')
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85EBCA6B)
  h ^= h >>> 13
  h = Math.imul(h, 0xC2B2AE35)
  h ^= h >>> 16
  return h >>> 0
}

/** A number in [0, 1) derived from the parts. */
export function unit (...parts: Array<string | number>): number {
  return hash32(...parts) / 4294967296
}

/** Convenience draws over a PRNG. */
export class Rng {
  private readonly next: () => number

  constructor (seed: number) {
    this.next = mulberry32(seed)
  }

  float (): number {
    return this.next()
  }

  /** An integer in [min, max], both included. */
  int (min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** Log-uniform in [min, max]: audience sizes spread over orders of magnitude. */
  logUniform (min: number, max: number): number {
    return Math.exp(Math.log(min) + this.next() * (Math.log(max) - Math.log(min)))
  }

  chance (p: number): boolean {
    return this.next() < p
  }

  pick<T> (items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)]
    if (item === undefined) throw new Error('pick from an empty list')
    return item
  }

  /** `count` distinct items, in a shuffled order. */
  sample<T> (items: readonly T[], count: number): T[] {
    const copy = [...items]
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1))
      const tmp = copy[i] as T
      copy[i] = copy[j] as T
      copy[j] = tmp
    }
    return copy.slice(0, Math.max(0, Math.min(count, copy.length)))
  }

  /** A string of digits of the given length, not starting with 0. */
  digits (length: number): string {
    let out = String(this.int(1, 9))
    for (let i = 1; i < length; i++) out += String(this.int(0, 9))
    return out
  }
}

/** Picks from a list by a hash, for lazily built data. */
export function pickBy<T> (items: readonly T[], h: number): T {
  const item = items[h % items.length]
  if (item === undefined) throw new Error('pick from an empty list')
  return item
}
