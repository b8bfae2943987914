import { audienceAccount, audienceById, audienceByLogin, audienceIndexOf, audienceMember } from './audience.js'
import { HOUR_MS, hourStart } from './clock.js'
import { curveValue, itemTime } from './curves.js'
import { GAMES, gameById, type Game } from './games.js'
import type { Persona } from './personas.js'
import { hash32, pickBy, unit } from './random.js'
import { STREAM_TITLES, VIDEO_TITLES, fill } from './text.js'
import type { World } from './world.js'

/** The Twitch side of the world: what Helix shows at a given simulated hour. */

export interface TwitchUserRecord {
  id: string
  login: string
  displayName: string
  broadcasterType: '' | 'affiliate' | 'partner'
  description: string
  createdAt: number
  profileImageUrl: string
  offlineImageUrl: string
  persona?: Persona
}

function pictureId (seed: number, id: string): string {
  const hex = (salt: string) => hash32(seed, 'picture', id, salt).toString(16).padStart(8, '0')
  return `${hex('a')}-${hex('b').slice(0, 4)}-${hex('c').slice(0, 4)}-${hex('d').slice(0, 4)}-${hex('e')}${hex('f').slice(0, 4)}`
}

function personaUser (world: World, persona: Persona): TwitchUserRecord {
  const picture = pictureId(world.seed, persona.twitch.id)
  return {
    id: persona.twitch.id,
    login: persona.login,
    displayName: persona.twitch.displayName,
    broadcasterType: persona.twitch.broadcasterType,
    description: persona.twitch.description,
    createdAt: persona.twitch.createdAt,
    profileImageUrl: `https://static-cdn.jtvnw.net/jtv_user_pictures/${picture}-profile_image-300x300.png`,
    offlineImageUrl: persona.twitch.broadcasterType === '' ? '' : `https://static-cdn.jtvnw.net/jtv_user_pictures/${picture}-channel_offline_image-1920x1080.png`,
    persona
  }
}

function audienceUser (seed: number, n: number): TwitchUserRecord {
  const account = audienceAccount(seed, n)
  return {
    id: account.id,
    login: account.login,
    displayName: account.displayName,
    broadcasterType: '',
    description: '',
    createdAt: account.createdAt,
    profileImageUrl: 'https://static-cdn.jtvnw.net/user-default-pictures-uv/ebe4cd89-b4f4-4cd9-adac-2f30151b4209-profile_image-300x300.png',
    offlineImageUrl: ''
  }
}

export function twitchUserById (world: World, id: string): TwitchUserRecord | undefined {
  const persona = world.personaByTwitchId(id)
  if (persona !== undefined) return personaUser(world, persona)
  const account = audienceById(world.seed, id)
  return account === undefined ? undefined : audienceUser(world.seed, account.n)
}

export function twitchUserByLogin (world: World, login: string): TwitchUserRecord | undefined {
  const persona = world.persona(login)
  if (persona !== undefined) return personaUser(world, persona)
  const account = audienceByLogin(world.seed, login.toLowerCase())
  return account === undefined ? undefined : audienceUser(world.seed, account.n)
}

// ---------------------------------------------------------------------------------------------
// Followers: the audience's follows (growing with the clock), then the personas' (the oldest).

export interface FollowEntry {
  user: TwitchUserRecord
  followedAt: number
}

const followersSalt = (persona: Persona) => `followers:${persona.index}`

function audienceFollowers (world: World, persona: Persona, hour: number): number {
  return curveValue(persona.twitch.followers, world.offset(hour))
}

export function followerTotal (world: World, persona: Persona, hour: number): number {
  return audienceFollowers(world, persona, hour) + world.personaFollowers(persona).length
}

/** The follower at `offset` in the list, newest first. */
export function followerAt (world: World, persona: Persona, hour: number, offset: number): FollowEntry {
  const audience = audienceFollowers(world, persona, hour)
  if (offset < audience) {
    const k = audience - 1 - offset
    return {
      user: audienceUser(world.seed, audienceMember(world.seed, followersSalt(persona), k)),
      followedAt: itemTime(persona.twitch.followers, k, world.anchorHour)
    }
  }
  const personas = world.personaFollowers(persona)
  const follow = personas[personas.length - 1 - (offset - audience)]
  if (follow === undefined) throw new Error(`no follower at ${offset}`)
  return { user: personaUser(world, world.personaAt(follow.persona)), followedAt: follow.at }
}

export function findFollower (world: World, persona: Persona, hour: number, userId: string): FollowEntry | undefined {
  const account = audienceById(world.seed, userId)
  if (account !== undefined) {
    const k = audienceIndexOf(world.seed, followersSalt(persona), account.n)
    if (k >= audienceFollowers(world, persona, hour)) return undefined
    return { user: audienceUser(world.seed, account.n), followedAt: itemTime(persona.twitch.followers, k, world.anchorHour) }
  }
  const follower = world.personaByTwitchId(userId)
  const follow = follower === undefined ? undefined : world.personaFollowers(persona).find((f) => f.persona === follower.index)
  return follow === undefined || follower === undefined ? undefined : { user: personaUser(world, follower), followedAt: follow.at }
}

/** Channels a persona follows, newest follow first. Follows between personas do not change. */
export function followedChannels (world: World, persona: Persona): Array<{ broadcaster: TwitchUserRecord, followedAt: number }> {
  return [...persona.twitch.follows].reverse().map((f) => ({ broadcaster: personaUser(world, world.personaAt(f.persona)), followedAt: f.at }))
}

// ---------------------------------------------------------------------------------------------
// Subscriptions. Points per tier: 1000 = 1, 2000 = 2, 3000 = 6 (docs/providers.md §1.3).

export type Tier = '1000' | '2000' | '3000'
export const TIER_POINTS: Record<Tier, number> = { 1000: 1, 2000: 2, 3000: 6 }

export interface Subscription {
  user: TwitchUserRecord
  tier: Tier
  gifter: TwitchUserRecord | undefined
}

export interface SubscriptionSummary {
  total: number
  points: number
  tiers: Record<Tier, number>
}

const subscribersSalt = (persona: Persona) => `subscribers:${persona.index}`

export function subscriptionCount (world: World, persona: Persona, hour: number): number {
  return curveValue(persona.twitch.subscribers, world.offset(hour))
}

function tierOf (world: World, persona: Persona, k: number): Tier {
  const u = unit(world.seed, 'tier', persona.index, k)
  return u < 0.82 ? '1000' : u < 0.95 ? '2000' : '3000'
}

/** The k-th subscription of the channel; whether it exists at an hour is `k < subscriptionCount`. */
export function subscriptionAt (world: World, persona: Persona, k: number): Subscription {
  const gift = unit(world.seed, 'gift', persona.index, k) < 0.2
  return {
    user: audienceUser(world.seed, audienceMember(world.seed, subscribersSalt(persona), k)),
    tier: tierOf(world, persona, k),
    // A handful of generous viewers give most gifts, as on real channels.
    gifter: gift ? audienceUser(world.seed, audienceMember(world.seed, `gifters:${persona.index}`, hash32(world.seed, 'gifter', persona.index, k) % 12)) : undefined
  }
}

export function findSubscription (world: World, persona: Persona, hour: number, userId: string): Subscription | undefined {
  const account = audienceById(world.seed, userId)
  if (account === undefined) return undefined
  const k = audienceIndexOf(world.seed, subscribersSalt(persona), account.n)
  return k < subscriptionCount(world, persona, hour) ? subscriptionAt(world, persona, k) : undefined
}

const summaryCache = new Map<string, SubscriptionSummary>()

export function subscriptionSummary (world: World, persona: Persona, hour: number): SubscriptionSummary {
  const key = `${world.seed}:${world.anchorHour}:${persona.index}:${hour}`
  const cached = summaryCache.get(key)
  if (cached !== undefined) return cached
  const total = subscriptionCount(world, persona, hour)
  const tiers: Record<Tier, number> = { 1000: 0, 2000: 0, 3000: 0 }
  for (let k = 0; k < total; k++) tiers[tierOf(world, persona, k)]++
  const summary = { total, points: tiers[1000] * TIER_POINTS[1000] + tiers[2000] * TIER_POINTS[2000] + tiers[3000] * TIER_POINTS[3000], tiers }
  if (summaryCache.size > 2_000) summaryCache.clear()
  summaryCache.set(key, summary)
  return summary
}

// ---------------------------------------------------------------------------------------------
// Videos: one appears every day or three; each gathers views over its first days.

export type VideoType = 'archive' | 'highlight' | 'upload'

export interface Video {
  id: string
  persona: Persona
  k: number
  streamId: string | null
  title: string
  description: string
  createdAt: number
  publishedAt: number
  viewCount: number
  language: string
  type: VideoType
  durationSeconds: number
  gameId: string
  mutedSegments: Array<{ duration: number, offset: number }> | null
}

const VIDEO_ID_BASE = 1_000_000_000
const VIDEOS_PER_PERSONA = 10_000_000

export function videoCount (world: World, persona: Persona, hour: number): number {
  return curveValue(persona.twitch.videos, world.offset(hour))
}

export function videoAt (world: World, persona: Persona, k: number, hour: number): Video {
  const h = (salt: string) => hash32(world.seed, 'video', persona.index, k, salt)
  const u = unit(world.seed, 'video-type', persona.index, k)
  const type: VideoType = u < 0.7 ? 'archive' : u < 0.9 ? 'highlight' : 'upload'
  const gameId = pickBy(persona.twitch.games, h('game'))
  const game = gameById(gameId)
  const createdAt = itemTime(persona.twitch.videos, k, world.anchorHour)
  const durationSeconds = type === 'archive' ? 3_600 + (h('len') % 18_000) : type === 'highlight' ? 30 + (h('len') % 570) : 180 + (h('len') % 1_620)
  const finalViews = persona.twitch.videoViews * (0.2 + 2 * unit(world.seed, 'video-views', persona.index, k))
  const ageHours = Math.max(0, (hourStart(hour) - createdAt) / HOUR_MS)
  return {
    id: String(VIDEO_ID_BASE + persona.index * VIDEOS_PER_PERSONA + k),
    persona,
    k,
    streamId: type === 'archive' ? String(39_000_000_000 + (h('stream') % 999_999_999)) : null,
    title: fill(pickBy(VIDEO_TITLES, h('title')), { game: game?.name ?? 'the stream', n: k + 1 }),
    description: type === 'upload' ? 'Thanks for watching! Follow for more.' : '',
    createdAt,
    // Archives publish when the stream starts; uploads after processing.
    publishedAt: type === 'upload' ? Math.min(createdAt + 60_000 * (1 + (h('pub') % 30)), hourStart(hour)) : createdAt,
    viewCount: Math.floor(finalViews * (1 - Math.exp(-ageHours / 48))),
    language: persona.twitch.language,
    type,
    durationSeconds,
    gameId,
    mutedSegments: type === 'archive' && unit(world.seed, 'muted', persona.index, k) < 0.3 ? [{ duration: 30 * (1 + (h('mute') % 4)), offset: h('off') % durationSeconds }] : null
  }
}

export function videoById (world: World, id: string, hour: number): Video | undefined {
  if (!/^\d{10}$/.test(id)) return undefined
  const x = Number(id) - VIDEO_ID_BASE
  const persona = world.personas[Math.floor(x / VIDEOS_PER_PERSONA)]
  const k = x % VIDEOS_PER_PERSONA
  if (persona === undefined || x < 0 || k >= videoCount(world, persona, hour)) return undefined
  return videoAt(world, persona, k, hour)
}

/** Every video of a channel, newest first. */
export function videosOf (world: World, persona: Persona, hour: number): Video[] {
  const count = videoCount(world, persona, hour)
  const videos: Video[] = []
  for (let k = count - 1; k >= 0; k--) videos.push(videoAt(world, persona, k, hour))
  return videos
}

/** "3h2m11s" style, as Helix writes durations (not ISO 8601). */
export function formatDuration (seconds: number): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`
}

// ---------------------------------------------------------------------------------------------
// Streams: each channel has a habit (how often, when, how long); 24/7 channels never stop.

export interface LiveStream {
  id: string
  persona: Persona
  startedAt: number
  gameId: string
  title: string
  viewerCount: number
  tags: string[]
}

const LANGUAGE_TAGS: Record<string, string> = { en: 'English', de: 'Deutsch', fr: 'Français', es: 'Español', pt: 'Português', ja: '日本語' }

function sessionOnDay (world: World, persona: Persona, day: number): { start: number, hours: number } | undefined {
  const habit = persona.twitch.stream
  if (habit.chance >= 1) return { start: day * 24, hours: 24 }
  if (unit(world.seed, 'streams', persona.index, day) >= habit.chance) return undefined
  const start = day * 24 + habit.startHour + (hash32(world.seed, 'stream-start', persona.index, day) % 3)
  const hours = habit.minHours + (hash32(world.seed, 'stream-hours', persona.index, day) % (habit.maxHours - habit.minHours + 1))
  return { start, hours }
}

export function liveStream (world: World, persona: Persona, hour: number): LiveStream | undefined {
  const today = Math.floor(hour / 24)
  for (const day of [today, today - 1]) {
    const session = sessionOnDay(world, persona, day)
    if (session === undefined || hour < session.start || hour >= session.start + session.hours) continue
    const h = (salt: string) => hash32(world.seed, 'stream', persona.index, day, salt)
    const swing = 0.7 + 0.6 * unit(world.seed, 'viewers', persona.index, hour)
    return {
      id: String(40_000_000_000 + day * 100 + persona.index),
      persona,
      // Streams start a few minutes before the hour in which they become visible.
      startedAt: hourStart(session.start) - 60_000 * (1 + (h('early') % 9)),
      gameId: pickBy(persona.twitch.games, h('game')),
      title: fill(pickBy(STREAM_TITLES, h('title')), { n: 1 + (day % 40) }),
      viewerCount: Math.max(1, Math.round(persona.twitch.stream.viewers * swing)),
      tags: [LANGUAGE_TAGS[persona.twitch.language] ?? 'English', ...(h('tag') % 2 === 0 ? ['Chill'] : ['Competitive'])]
    }
  }
  return undefined
}

/** Everything live at the hour, most watched first. */
export function liveStreams (world: World, hour: number): LiveStream[] {
  return world.personas
    .map((p) => liveStream(world, p, hour))
    .filter((s): s is LiveStream => s !== undefined)
    .sort((a, b) => b.viewerCount - a.viewerCount || a.id.localeCompare(b.id))
}

/** Categories by how much they are watched this hour. */
export function topGames (world: World, hour: number): Game[] {
  const score = (g: Game) => g.popularity * (0.75 + 0.5 * unit(world.seed, 'top-games', g.id, hour))
  return [...GAMES].sort((a, b) => score(b) - score(a))
}

// ---------------------------------------------------------------------------------------------
// Bits leaderboard.

export type BitsPeriod = 'day' | 'week' | 'month' | 'year' | 'all'
const PERIOD_SHARE: Record<BitsPeriod, number> = { day: 0.004, week: 0.02, month: 0.08, year: 0.5, all: 1 }

export function bitsWindow (period: BitsPeriod, at: number): { start: number, end: number } | undefined {
  const d = new Date(at)
  const y = d.getUTCFullYear()
  const m = d.getUTCMonth()
  const day = Date.UTC(y, m, d.getUTCDate())
  switch (period) {
    case 'all': return undefined
    case 'day': return { start: day, end: day + 86_400_000 }
    case 'week': {
      const monday = day - ((d.getUTCDay() + 6) % 7) * 86_400_000
      return { start: monday, end: monday + 7 * 86_400_000 }
    }
    case 'month': return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) }
    case 'year': return { start: Date.UTC(y, 0, 1), end: Date.UTC(y + 1, 0, 1) }
  }
}

export interface BitsEntry { user: TwitchUserRecord, rank: number, score: number }

/** The channel's cheerers for a period, best first; all-time totals grow with the clock. */
export function bitsLeaderboard (world: World, persona: Persona, hour: number, period: BitsPeriod, at: number, count: number): BitsEntry[] {
  if (persona.twitch.bits === 0) return []
  const window = bitsWindow(period, at)
  const windowKey = window === undefined ? 'all' : String(window.start)
  const growth = window === undefined ? 1 + Math.max(0, world.offset(hour)) / 2_000 : 0.5 + unit(world.seed, 'bits-window', persona.index, windowKey)
  const scale = persona.twitch.bits * PERIOD_SHARE[period] * growth
  const entries: BitsEntry[] = []
  for (let r = 0; r < count; r++) {
    const score = Math.floor(scale / Math.pow(r + 1, 1.1))
    if (score < 1) break
    const member = audienceMember(world.seed, `cheerers:${persona.index}:${windowKey}`, r)
    entries.push({ user: audienceUser(world.seed, member), rank: r + 1, score })
  }
  return entries
}
