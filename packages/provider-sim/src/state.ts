import { SimClock } from './clock.js'
import { DEFAULT_DELIVERY, EventSub, type DeliverySettings } from './eventsub.js'
import { CallLog, FaultPlan } from './faults.js'
import { FixedWindowLimiter } from './rate-limit.js'
import { OAuth2Grants } from './oauth2-grants.js'
import { TWITCH_POLICY, X_OAUTH2_POLICY } from './token-formats.js'
import type { LiveStream } from './twitch-data.js'
import { World } from './world.js'
import { XTokens } from './x-tokens.js'

/** How X names posts on the wire: `tweet` (every OpenAPI through 2.166) or `post` (2.167, docs/providers.md §2.5). */
export type XNaming = 'tweet' | 'post'

export interface SimStateOptions {
  seed?: number
  /** Ms epoch at which the simulator's clock starts; default: now. */
  startTime?: number
  xNaming?: XNaming
  /** EventSub retries and callback timeout; tests shorten them. */
  eventsubDelivery?: Partial<DeliverySettings>
}

/**
 * The hour at which every curve has its base value. It is fixed, not the hour the simulator
 * started: the numbers depend only on the seed and the simulated time, so a restarted simulator
 * (or a second one with the same seed) continues the same history instead of starting over.
 */
export const WORLD_ANCHOR_HOUR = Date.UTC(2026, 0, 1) / 3_600_000

/** X's documented per-window limits (docs/providers.md §2.6); 15-minute windows. */
export const X_LIMITS = {
  'GET /2/users/me': { user: 75, app: undefined },
  'GET /2/users/:id': { user: 900, app: 300 },
  'GET /2/users/by/username/:username': { user: 900, app: 300 },
  'GET /2/users/:id/tweets': { user: 900, app: 10_000 }
} as const satisfies Record<string, { user: number, app: number | undefined }>

export type XLimitedEndpoint = keyof typeof X_LIMITS

/** Everything one simulator instance holds. Nothing is shared between instances. */
export class SimState {
  readonly clock: SimClock
  readonly world: World
  readonly twitchTokens = new OAuth2Grants(TWITCH_POLICY)
  /** X OAuth 1.0a request and access tokens. */
  readonly xTokens = new XTokens()
  /** X OAuth 2.0 (PKCE) codes and tokens. */
  readonly xOAuth2 = new OAuth2Grants(X_OAUTH2_POLICY)
  /** Twitch: 800 points a minute per client (app tokens) or per client and user (docs/providers.md §1.4). */
  readonly helixLimiter = new FixedWindowLimiter(800, 60_000)
  readonly xLimiters = new Map<string, FixedWindowLimiter>()
  /** OAuth 1.0a nonces seen recently (RFC 5849 §3.3), with when they may be forgotten. */
  readonly nonces = new Map<string, number>()
  readonly calls = new CallLog()
  readonly faults = new FaultPlan()
  /** Every provider endpoint (`METHOD /path`), for checking the names given to the control surface. */
  readonly endpoints = new Set<string>()
  readonly xNaming: XNaming
  /** EventSub subscriptions and deliveries (docs/providers.md §1.5). */
  readonly eventsub: EventSub
  /** Streams a test started (a stream) or ended (null) by persona index, over the seeded schedule. */
  readonly streamOverrides = new Map<number, LiveStream | null>()

  constructor (options: SimStateOptions = {}) {
    this.clock = new SimClock(options.startTime ?? Date.now())
    this.world = new World(options.seed ?? 42, WORLD_ANCHOR_HOUR)
    this.xNaming = options.xNaming ?? 'tweet'
    this.eventsub = new EventSub({ ...DEFAULT_DELIVERY, ...options.eventsubDelivery })
    for (const [endpoint, limits] of Object.entries(X_LIMITS)) {
      this.xLimiters.set(`${endpoint} user`, new FixedWindowLimiter(limits.user, 15 * 60_000))
      if (limits.app !== undefined) this.xLimiters.set(`${endpoint} app`, new FixedWindowLimiter(limits.app, 15 * 60_000))
    }
  }

  /** The simulated hour every metric is read at. */
  hour (): number {
    return this.clock.hour()
  }
}
