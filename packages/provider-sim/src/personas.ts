import { FLAT_ZERO, itemTime, type Curve } from './curves.js'
import { GAMES } from './games.js'
import { Rng } from './random.js'
import { ADJECTIVES, BIO_TEMPLATES, LANGUAGES, NOUNS, TOPICS, capitalise, fill } from './text.js'

/**
 * The simulated accounts. A persona is one person with an account on both providers (same
 * login, different ids). The named ones are fixed by docs/api.md; the rest are generated from the seed.
 */
export type Profile = 'big' | 'mid' | 'new' | 'prolific' | 'small' | 'large' | 'always-live'

export interface StreamHabit {
  /** Chance of streaming on a given day; 1 = a channel that never goes offline. */
  chance: number
  /** UTC hour at which streams usually start. */
  startHour: number
  minHours: number
  maxHours: number
  viewers: number
}

export interface TwitchAccount {
  id: string
  displayName: string
  createdAt: number
  broadcasterType: 'partner' | 'affiliate' | ''
  description: string
  language: string
  followers: Curve
  subscribers: Curve
  videos: Curve
  /** Typical final view count of one video. */
  videoViews: number
  /** Game ids this channel streams. */
  games: string[]
  stream: StreamHabit
  /** Score of the top cheerer over all time; 0 = no bits. */
  bits: number
  /** Personas (by index) who moderate this channel. */
  moderators: number[]
  /** Channels this account follows (persona indexes, oldest first) and when. */
  follows: Array<{ persona: number, at: number }>
}

export interface XAccount {
  id: string
  name: string
  createdAt: number
  description: string
  location: string
  verified: boolean
  followers: Curve
  following: Curve
  posts: Curve
  listed: Curve
  likes: Curve
  /** Likes a post typically gets per thousand followers. */
  likesPerThousand: number
}

export interface Persona {
  index: number
  login: string
  profile: Profile
  twitch: TwitchAccount
  x: XAccount
}

interface Sizes {
  followers: [number, number]
  followersPerHour: [number, number]
  subs: [number, number]
  videos: [number, number]
  videoViews: [number, number]
  stream: { chance: number, viewers: [number, number], hours: [number, number] }
  bits: [number, number]
  xFollowers: [number, number]
  xFollowersPerHour: [number, number]
  following: [number, number]
  posts: [number, number]
  postsPerHour: [number, number]
  listed: [number, number]
  likes: [number, number]
  broadcasterType: TwitchAccount['broadcasterType']
  createdYears: [number, number]
}

// Sizes at the anchor hour and growth per hour. "sim_big: tens of thousands of followers, hundreds
// of subscribers, hundreds of posts; sim_mid: a few hundred followers; sim_new: none" (docs/api.md).
// The rates keep sim_big and sim_mid inside those bands from mid-2025 to the end of 2027.
const SIZES: Record<Exclude<Profile, 'new'>, Sizes> = {
  big: {
    followers: [25_000, 55_000], followersPerHour: [1, 2.5], subs: [300, 700], videos: [120, 250], videoViews: [1_500, 6_000],
    stream: { chance: 0.7, viewers: [400, 1_500], hours: [3, 6] }, bits: [20_000, 80_000],
    xFollowers: [20_000, 50_000], xFollowersPerHour: [0.5, 2], following: [300, 900], posts: [300, 600], postsPerHour: [0.01, 0.025],
    listed: [150, 500], likes: [4_000, 12_000], broadcasterType: 'partner', createdYears: [2013, 2017]
  },
  large: {
    followers: [100_000, 400_000], followersPerHour: [10, 30], subs: [1_000, 4_000], videos: [200, 400], videoViews: [8_000, 40_000],
    stream: { chance: 0.8, viewers: [3_000, 15_000], hours: [4, 8] }, bits: [100_000, 400_000],
    xFollowers: [80_000, 300_000], xFollowersPerHour: [5, 20], following: [200, 1_500], posts: [1_500, 3_000], postsPerHour: [0.2, 0.5],
    listed: [500, 2_000], likes: [5_000, 20_000], broadcasterType: 'partner', createdYears: [2011, 2015]
  },
  'always-live': {
    followers: [5_000, 30_000], followersPerHour: [0.5, 3], subs: [50, 200], videos: [20, 60], videoViews: [300, 2_000],
    stream: { chance: 1, viewers: [100, 900], hours: [24, 24] }, bits: [2_000, 10_000],
    xFollowers: [1_000, 8_000], xFollowersPerHour: [0.1, 0.5], following: [20, 200], posts: [100, 400], postsPerHour: [0.05, 0.1],
    listed: [10, 60], likes: [100, 800], broadcasterType: 'partner', createdYears: [2016, 2020]
  },
  prolific: {
    followers: [2_000, 6_000], followersPerHour: [0.3, 1], subs: [40, 120], videos: [40, 90], videoViews: [200, 900],
    stream: { chance: 0.4, viewers: [30, 120], hours: [2, 4] }, bits: [1_000, 5_000],
    xFollowers: [3_000, 9_000], xFollowersPerHour: [0.3, 1], following: [500, 2_000], posts: [5_000, 7_000], postsPerHour: [0.1, 0.2],
    listed: [30, 120], likes: [20_000, 60_000], broadcasterType: 'affiliate', createdYears: [2012, 2016]
  },
  mid: {
    followers: [250, 600], followersPerHour: [0.005, 0.02], subs: [8, 30], videos: [30, 80], videoViews: [40, 200],
    stream: { chance: 0.5, viewers: [8, 40], hours: [2, 4] }, bits: [500, 2_000],
    xFollowers: [200, 700], xFollowersPerHour: [0.005, 0.02], following: [150, 400], posts: [120, 350], postsPerHour: [0.01, 0.03],
    listed: [3, 15], likes: [800, 3_000], broadcasterType: 'affiliate', createdYears: [2018, 2022]
  },
  small: {
    followers: [10, 150], followersPerHour: [0.01, 0.05], subs: [0, 0], videos: [2, 20], videoViews: [5, 40],
    stream: { chance: 0.25, viewers: [1, 8], hours: [1, 3] }, bits: [0, 0],
    xFollowers: [10, 200], xFollowersPerHour: [0.005, 0.03], following: [50, 300], posts: [10, 120], postsPerHour: [0.01, 0.05],
    listed: [0, 2], likes: [50, 600], broadcasterType: '', createdYears: [2019, 2024]
  }
}

const NAMED: Array<{ login: string, profile: Profile }> = [
  { login: 'sim_big', profile: 'big' },
  { login: 'sim_mid', profile: 'mid' },
  { login: 'sim_new', profile: 'new' },
  { login: 'sim_chatty', profile: 'prolific' }
]
const ALWAYS_LIVE = 3
const GENERATED = 20
const GENERATED_PROFILES: Profile[] = ['small', 'small', 'small', 'mid', 'mid', 'mid', 'big', 'large']

const DAY_MS = 86_400_000
/** Twitter's snowflake epoch (2010-11-04T01:42:54.657Z): ids encode their creation time. */
export const SNOWFLAKE_EPOCH = 1_288_834_974_657n

export function snowflake (ms: number, low: number): string {
  return ((BigInt(Math.floor(ms)) - SNOWFLAKE_EPOCH) << 22n | BigInt(low & 0x3FFFFF)).toString()
}

function growth (rng: Rng, base: number, perHour: number, opts: { swing?: boolean, wave?: number } = {}): Curve {
  if (base === 0 && perHour === 0) return FLAT_ZERO
  return {
    base: Math.round(base),
    perHour,
    dailySwing: opts.swing === false ? 0 : 0.3 + rng.float() * 0.6,
    phase: rng.int(0, 167),
    weeklyWave: opts.wave ?? 0
  }
}

function yearStart (year: number): number {
  return Date.UTC(year, 0, 1)
}

function range (rng: Rng, [min, max]: [number, number], log = false): number {
  if (max <= min) return min
  return log && min > 0 ? rng.logUniform(min, max) : min + rng.float() * (max - min)
}

interface Draft {
  login: string
  profile: Profile
  displayName: string
  xName: string
}

function generatedDrafts (rng: Rng, taken: Set<string>): Draft[] {
  const drafts: Draft[] = []
  while (drafts.length < ALWAYS_LIVE + GENERATED) {
    const adjective = rng.pick(ADJECTIVES)
    const noun = rng.pick(NOUNS)
    const number = rng.int(1, 99)
    const login = `${adjective}_${noun}${number}`
    if (taken.has(login)) continue
    taken.add(login)
    const profile = drafts.length < ALWAYS_LIVE ? 'always-live' : rng.pick(GENERATED_PROFILES)
    drafts.push({
      login,
      profile,
      displayName: `${capitalise(adjective)}${capitalise(noun)}${number}`,
      xName: `${capitalise(adjective)} ${capitalise(noun)}`
    })
  }
  return drafts
}

function uniqueId (rng: Rng, taken: Set<string>, make: () => string): string {
  for (;;) {
    const id = make()
    if (!taken.has(id)) {
      taken.add(id)
      return id
    }
  }
}

/**
 * Builds every persona from the seed. `anchorHour` is the simulated hour at which each curve has
 * its base value; the history before and after it follows the same curves.
 */
export function generatePersonas (seed: number, anchorHour: number): Persona[] {
  const rng = new Rng(seed)
  const taken = new Set(NAMED.map((n) => n.login))
  const drafts: Draft[] = [
    ...NAMED.map((n) => ({ ...n, displayName: n.login.replace(/^sim_(.)/, (_, c: string) => `Sim${c.toUpperCase()}`), xName: `Sim ${capitalise(n.login.slice(4))}` })),
    ...generatedDrafts(rng, taken)
  ]
  const anchorMs = anchorHour * 3_600_000
  const twitchIds = new Set<string>()
  const xIds = new Set<string>()

  const personas: Persona[] = drafts.map((draft, index) => {
    const sizes = draft.profile === 'new' ? undefined : SIZES[draft.profile]
    const language = index < NAMED.length ? 'en' : rng.pick(LANGUAGES)
    const games = rng.sample(GAMES.map((g) => g.id), rng.int(2, 4))
    const topic = rng.pick(TOPICS)
    const firstGame = GAMES.find((g) => g.id === games[0])?.name ?? 'games'
    const bio = fill(rng.pick(BIO_TEMPLATES), { game: firstGame, topic })
    // Persona ids stay clear of the audience accounts' id range (audience.ts).
    const twitchId = uniqueId(rng, twitchIds, () => rng.digits(rng.int(8, 9)).replace(/^9/, '8'))

    const twitch: TwitchAccount = sizes === undefined
      ? {
          id: twitchId, displayName: draft.displayName, createdAt: anchorMs - 3 * DAY_MS, broadcasterType: '', description: '', language,
          followers: FLAT_ZERO, subscribers: FLAT_ZERO, videos: FLAT_ZERO, videoViews: 0, games,
          stream: { chance: 0, startHour: 0, minHours: 0, maxHours: 0, viewers: 0 }, bits: 0, moderators: [], follows: []
        }
      : {
          id: twitchId,
          displayName: draft.displayName,
          createdAt: yearStart(Math.floor(range(rng, sizes.createdYears))) + rng.int(0, 364) * DAY_MS,
          broadcasterType: sizes.broadcasterType,
          description: bio,
          language,
          followers: growth(rng, range(rng, sizes.followers, true), range(rng, sizes.followersPerHour)),
          subscribers: sizes.subs[1] === 0
            ? FLAT_ZERO
            // Subscriptions come and go: no daily trend, a weekly wave and a slow drift.
            : growth(rng, range(rng, sizes.subs), range(rng, sizes.subs) / 50_000, { swing: false, wave: Math.max(1, range(rng, sizes.subs) / 40) }),
          videos: growth(rng, range(rng, sizes.videos), 1 / rng.int(24, 72), { swing: false }),
          videoViews: Math.round(range(rng, sizes.videoViews, true)),
          games,
          stream: {
            chance: sizes.stream.chance,
            startHour: sizes.stream.chance >= 1 ? 0 : rng.int(0, 23),
            minHours: sizes.stream.hours[0],
            maxHours: sizes.stream.hours[1],
            viewers: Math.round(range(rng, sizes.stream.viewers, true))
          },
          bits: Math.round(range(rng, sizes.bits, true)),
          moderators: [],
          follows: []
        }

    const xCreated = sizes === undefined
      ? anchorMs - 2 * DAY_MS
      : yearStart(Math.floor(range(rng, sizes.createdYears))) + rng.int(0, 364) * DAY_MS
    const x: XAccount = sizes === undefined
      ? {
          id: '', name: draft.xName, createdAt: xCreated, description: '', location: '', verified: false,
          followers: FLAT_ZERO, following: FLAT_ZERO, posts: FLAT_ZERO, listed: FLAT_ZERO, likes: FLAT_ZERO, likesPerThousand: 0
        }
      : {
          id: '',
          name: draft.xName,
          createdAt: xCreated,
          description: bio,
          location: rng.pick(['', '', 'Berlin', 'Toronto', 'Melbourne', 'Lisbon', 'Austin, TX', 'Seoul']),
          verified: draft.profile === 'large' || draft.profile === 'big',
          followers: growth(rng, range(rng, sizes.xFollowers, true), range(rng, sizes.xFollowersPerHour)),
          following: growth(rng, range(rng, sizes.following), range(rng, [0.002, 0.02]), { swing: false }),
          posts: growth(rng, range(rng, sizes.posts), range(rng, sizes.postsPerHour)),
          listed: growth(rng, range(rng, sizes.listed), range(rng, [0.001, 0.01]), { swing: false }),
          likes: growth(rng, range(rng, sizes.likes), range(rng, [0.05, 0.5])),
          likesPerThousand: range(rng, [4, 25])
        }
    return { index, login: draft.login, profile: draft.profile, twitch, x }
  })

  linkPersonas(rng, personas, anchorMs)
  settleCreationTimes(rng, personas, anchorHour, anchorMs)
  for (const persona of personas) {
    persona.x.id = uniqueId(rng, xIds, () => snowflake(persona.x.createdAt, rng.int(0, 0x3FFFFF)))
  }
  return personas
}

/** Who follows and moderates whom among the personas (the audience accounts are generated lazily). */
function linkPersonas (rng: Rng, personas: Persona[], anchorMs: number): void {
  const byLogin = new Map(personas.map((p) => [p.login, p]))
  const big = byLogin.get('sim_big')!
  const mid = byLogin.get('sim_mid')!
  const alwaysLive = personas.filter((p) => p.profile === 'always-live')
  // sim_new follows nobody and nobody follows it: the account with nothing (docs/api.md).
  const candidates = personas.filter((p) => p.profile !== 'new')
  big.twitch.moderators.push(mid.index)

  for (const persona of candidates) {
    const others = candidates.filter((p) => p !== persona)
    const chosen = new Set<Persona>()
    if (persona === big) {
      // sim_big follows every 24/7 channel, so its followed streams are never empty.
      for (const p of alwaysLive) chosen.add(p)
      chosen.add(mid)
      for (const p of rng.sample(others, 10)) chosen.add(p)
    } else if (persona === mid) {
      chosen.add(big)
      chosen.add(alwaysLive[0]!)
      for (const p of rng.sample(others, 4)) chosen.add(p)
    } else {
      for (const p of rng.sample(others, rng.int(0, 12))) chosen.add(p)
      if (rng.chance(0.3)) persona.twitch.moderators.push(rng.pick(others).index)
    }
    const follows = [...chosen].map((p) => ({ persona: p.index, at: anchorMs - rng.int(400, 4_000) * DAY_MS - rng.int(0, 86_399) * 1000 }))
    follows.sort((a, b) => a.at - b.at)
    persona.twitch.follows = follows
  }
}

/**
 * Every follow between personas must be older than the broadcaster's first audience follower (the
 * follower list is ordered by time) and newer than both accounts; accounts are made old enough.
 */
function settleCreationTimes (rng: Rng, personas: Persona[], anchorHour: number, anchorMs: number): void {
  const firstFollower = personas.map((p) => itemTime(p.twitch.followers, 0, anchorHour))
  for (const follower of personas) {
    for (const follow of follower.twitch.follows) {
      const first = firstFollower[follow.persona]!
      if (follow.at >= first) follow.at = first - rng.int(1, 90) * DAY_MS
    }
    follower.twitch.follows.sort((a, b) => a.at - b.at)
  }
  for (const persona of personas) {
    if (persona.profile === 'new') continue
    const earliest = [
      anchorMs,
      firstFollower[persona.index]!,
      itemTime(persona.twitch.videos, 0, anchorHour),
      ...persona.twitch.follows.map((f) => f.at),
      ...personas.flatMap((p) => p.twitch.follows.filter((f) => f.persona === persona.index).map((f) => f.at))
    ].filter(Number.isFinite)
    const limit = Math.min(...earliest) - rng.int(30, 300) * DAY_MS
    if (persona.twitch.createdAt > limit) persona.twitch.createdAt = limit
    const xEarliest = [anchorMs, itemTime(persona.x.posts, 0, anchorHour), itemTime(persona.x.followers, 0, anchorHour)].filter(Number.isFinite)
    const xLimit = Math.min(...xEarliest) - rng.int(30, 300) * DAY_MS
    if (persona.x.createdAt > xLimit) persona.x.createdAt = xLimit
  }
}
