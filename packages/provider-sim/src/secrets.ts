import { randomInt } from 'node:crypto'

/**
 * Random token material. Tokens are not simulated data: they come from the system's CSPRNG, never
 * from the seed, so two simulators never hand out the same token.
 */
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789'
const MIXED_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

export function randomString (length: number, alphabet = LOWER_ALNUM): string {
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)]
  return out
}

export function randomMixed (length: number): string {
  return randomString(length, MIXED_ALNUM)
}

export function randomBetween (min: number, max: number): number {
  return randomInt(min, max + 1)
}
