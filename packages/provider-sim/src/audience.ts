import { hash32, pickBy } from './random.js'
import { ADJECTIVES, NOUNS, capitalise } from './text.js'

/**
 * The audience: a million viewer accounts that follow, subscribe and cheer. They are never stored;
 * the n-th one is derived from the seed when it is needed, and its id and login map back to n.
 */
export const AUDIENCE_SIZE = 1_000_003 // prime, so every multiplier gives a permutation
const ID_BASE = 900_000_000
const DAY_MS = 86_400_000
const CREATED_FROM = Date.UTC(2012, 0, 1)

export interface AudienceAccount {
  n: number
  id: string
  login: string
  displayName: string
  createdAt: number
}

export function audienceAccount (seed: number, n: number): AudienceAccount {
  const h = hash32(seed, 'audience', n)
  const adjective = pickBy(ADJECTIVES, h)
  const noun = pickBy(NOUNS, h >>> 8)
  const suffix = n.toString(36)
  return {
    n,
    id: String(ID_BASE + n),
    login: `${adjective}${noun}_${suffix}`,
    displayName: `${capitalise(adjective)}${capitalise(noun)}_${suffix}`,
    createdAt: CREATED_FROM + (hash32(seed, 'audience-created', n) % 4_000) * DAY_MS
  }
}

export function audienceById (seed: number, id: string): AudienceAccount | undefined {
  if (!/^\d{9}$/.test(id)) return undefined
  const n = Number(id) - ID_BASE
  return n >= 0 && n < AUDIENCE_SIZE ? audienceAccount(seed, n) : undefined
}

export function audienceByLogin (seed: number, login: string): AudienceAccount | undefined {
  const match = /_([0-9a-z]+)$/.exec(login)
  if (match === null) return undefined
  const n = parseInt(match[1]!, 36)
  if (!(n >= 0 && n < AUDIENCE_SIZE)) return undefined
  const account = audienceAccount(seed, n)
  return account.login === login ? account : undefined
}

/**
 * The k-th distinct audience member of a list (a channel's followers, its subscribers): an affine
 * permutation of the audience, different for every `salt`, so no one appears twice in a list.
 */
export function audienceMember (seed: number, salt: string, k: number): number {
  const a = 1 + (hash32(seed, salt, 'a') % (AUDIENCE_SIZE - 1))
  const c = hash32(seed, salt, 'c') % AUDIENCE_SIZE
  return (a * (k % AUDIENCE_SIZE) + c) % AUDIENCE_SIZE
}

function modularInverse (a: number, m: number): number {
  let [oldR, r] = [a, m]
  let [oldS, s] = [1, 0]
  while (r !== 0) {
    const q = Math.floor(oldR / r);
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s]
  }
  return ((oldS % m) + m) % m
}

/** The position of audience member `n` in the list `salt` (the inverse of `audienceMember`). */
export function audienceIndexOf (seed: number, salt: string, n: number): number {
  const a = 1 + (hash32(seed, salt, 'a') % (AUDIENCE_SIZE - 1))
  const c = hash32(seed, salt, 'c') % AUDIENCE_SIZE
  const inverse = modularInverse(a, AUDIENCE_SIZE)
  return (inverse * (((n - c) % AUDIENCE_SIZE + AUDIENCE_SIZE) % AUDIENCE_SIZE)) % AUDIENCE_SIZE
}
