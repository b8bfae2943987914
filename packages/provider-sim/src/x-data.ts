import { audienceAccount, audienceMember } from './audience.js'
import { HOUR_MS, hourStart } from './clock.js'
import { curveValue, itemTime } from './curves.js'
import { GAMES } from './games.js'
import { snowflake, type Persona } from './personas.js'
import { hash32, pickBy, unit } from './random.js'
import { POST_TEMPLATES, TOPICS, fill } from './text.js'
import type { World } from './world.js'

/** The X side of the world: user metrics and timelines at a given simulated hour. */

export interface XUserMetrics {
  followers_count: number
  following_count: number
  tweet_count: number
  listed_count: number
  like_count: number
}

/** The persona as X's consent page lists it: its name and followers at that hour. */
export function xProfile (world: World, persona: Persona, hour: number): { name: string, followers: number } {
  return { name: persona.x.name, followers: xMetrics(world, persona, hour).followers_count }
}

export function xMetrics (world: World, persona: Persona, hour: number): XUserMetrics {
  const d = world.offset(hour)
  return {
    followers_count: curveValue(persona.x.followers, d),
    following_count: curveValue(persona.x.following, d),
    tweet_count: curveValue(persona.x.posts, d),
    listed_count: curveValue(persona.x.listed, d),
    like_count: curveValue(persona.x.likes, d)
  }
}

export type PostKind = 'post' | 'reply' | 'repost' | 'quote'

export interface PostMetrics {
  retweet_count: number
  reply_count: number
  like_count: number
  quote_count: number
  bookmark_count: number
  impression_count: number
}

export interface Post {
  id: string
  k: number
  persona: Persona
  kind: PostKind
  text: string
  createdAt: number
  lang: string
  referenced: { type: 'retweeted' | 'replied_to' | 'quoted', id: string } | undefined
  inReplyToUserId: string | undefined
  metrics: PostMetrics
}

export function postCount (world: World, persona: Persona, hour: number): number {
  return curveValue(persona.x.posts, world.offset(hour))
}

function postTime (world: World, persona: Persona, k: number): number {
  return itemTime(persona.x.posts, k, world.anchorHour)
}

export function postId (world: World, persona: Persona, k: number): bigint {
  return BigInt(snowflake(postTime(world, persona, k), hash32(world.seed, 'post-id', persona.index, k)))
}

function otherHandle (world: World, persona: Persona, h: number): { username: string, id: string } {
  if (h % 3 === 0) {
    const other = pickBy(world.personas.filter((p) => p !== persona && p.profile !== 'new'), h >>> 4)
    return { username: other.login, id: other.x.id }
  }
  const account = audienceAccount(world.seed, audienceMember(world.seed, `mentions:${persona.index}`, h % 500))
  return { username: account.login, id: snowflake(account.createdAt, h) }
}

/** The k-th post (0 = oldest) as seen at the hour: its engagement grows over its first day. */
export function postAt (world: World, persona: Persona, k: number, hour: number): Post {
  const h = (salt: string) => hash32(world.seed, 'post', persona.index, k, salt)
  const u = unit(world.seed, 'post-kind', persona.index, k)
  const kind: PostKind = u < 0.7 ? 'post' : u < 0.85 ? 'reply' : u < 0.95 ? 'repost' : 'quote'
  const createdAt = postTime(world, persona, k)
  const id = snowflake(createdAt, hash32(world.seed, 'post-id', persona.index, k))
  const body = fill(pickBy(POST_TEMPLATES, h('text')), {
    game: pickBy(GAMES, h('game')).name,
    topic: pickBy(TOPICS, h('topic')),
    n: 10 + (h('n') % 990)
  })
  const other = otherHandle(world, persona, h('other'))
  const referencedId = snowflake(createdAt - 60_000 * (1 + (h('ref') % 600)), h('ref-low'))
  const text = kind === 'repost' ? `RT @${other.username}: ${body}` : kind === 'reply' ? `@${other.username} ${body}` : body

  const ageHours = Math.max(0, (hourStart(hour) - createdAt) / HOUR_MS)
  const reach = Math.max(1, persona.x.followers.base) * persona.x.likesPerThousand / 1000
  const finalLikes = kind === 'repost' ? 0 : reach * Math.exp(Math.log(0.2) + unit(world.seed, 'post-likes', persona.index, k) * Math.log(25))
  const grown = 1 - Math.exp(-ageHours / 6)
  const likes = Math.floor(finalLikes * grown)
  const share = (ratio: number) => Math.floor(finalLikes * ratio * grown)
  return {
    id,
    k,
    persona,
    kind,
    text,
    createdAt,
    lang: persona.twitch.language,
    referenced: kind === 'post' ? undefined : { type: kind === 'repost' ? 'retweeted' : kind === 'reply' ? 'replied_to' : 'quoted', id: referencedId },
    inReplyToUserId: kind === 'reply' ? other.id : undefined,
    metrics: {
      retweet_count: share(0.12),
      reply_count: share(0.06),
      like_count: likes,
      quote_count: share(0.015),
      bookmark_count: share(0.03),
      impression_count: kind === 'repost' ? 0 : Math.floor(finalLikes * (25 + (h('views') % 55)) * grown)
    }
  }
}

/** The number of posts with an id at most `id` (so the posts `0..result-1`). */
export function postsUpToId (world: World, persona: Persona, count: number, id: bigint): number {
  let lo = 0
  let hi = count
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    if (postId(world, persona, mid) <= id) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The number of posts created before `ms`. */
export function postsBefore (world: World, persona: Persona, count: number, ms: number): number {
  let lo = 0
  let hi = count
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    if (postTime(world, persona, mid) < ms) lo = mid + 1
    else hi = mid
  }
  return lo
}
