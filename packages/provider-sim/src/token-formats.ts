import { randomBetween, randomMixed, randomString } from './secrets.js'
import type { GrantPolicy } from './oauth2-grants.js'

/** What each provider's codes and tokens look like and how long they live. */

/**
 * Twitch refresh tokens carry `%`, `/` and `=`, as Twitch's sometimes do ("Refreshing Access
 * Tokens", docs/providers.md §1.1): a client that sends one without URL-encoding it gets "Invalid
 * refresh token", here as there. The `%` starts a valid escape, so a missing encoding always
 * changes the token.
 */
const ESCAPES = ['%2F', '%3D', '%2B', '%3A'] as const

export const TWITCH_POLICY: GrantPolicy = {
  // Codes are meant to be exchanged at once; ten minutes is generous.
  codeLifetimeMs: 10 * 60_000,
  // User tokens live about four hours; app tokens about two months (docs/providers.md §1.1).
  userTokenLifetime: () => randomBetween(13_800, 14_400),
  appTokenLifetime: () => randomBetween(4_900_000, 5_400_000),
  accessToken: () => randomString(30),
  refreshToken: () => `${randomString(24)}${ESCAPES[randomBetween(0, ESCAPES.length - 1)]}${randomString(12)}/${randomString(10)}=`,
  code: () => randomString(30)
}

/** X's tokens are base64 of `<random>:<ms>:1:1:<at|rt>:1` (the shape of the examples in docs/providers.md §2.4). */
function xToken (kind: 'at' | 'rt' | 'ac', now: number): string {
  return Buffer.from(`${randomMixed(43)}:${now}:1:${kind === 'ac' ? 2 : 1}:${kind}:1`).toString('base64url')
}

export const X_OAUTH2_POLICY: GrantPolicy = {
  // "The auth code expires after 30 s"; access tokens last two hours (docs/providers.md §2.4).
  codeLifetimeMs: 30_000,
  userTokenLifetime: () => 7_200,
  appTokenLifetime: () => 7_200,
  accessToken: (now) => xToken('at', now),
  refreshToken: (now) => xToken('rt', now),
  code: () => xToken('ac', Date.now())
}
