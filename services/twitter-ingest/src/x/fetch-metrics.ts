import { ProviderRequestError, answerCheck, type ProviderSession } from '@pulse/ingest-kit'
import type { FastifyBaseLogger } from 'fastify'
import type { XClient } from './client.js'
import { XTimelineSchema, XUserMeSchema, type XPost, type XUserMe } from './schemas.js'

const userMe = answerCheck(XUserMeSchema)
const timeline = answerCheck(XTimelineSchema)

/** X's user timeline reaches back over the newest 3,200 posts only (docs/providers.md §2.5). */
export const TIMELINE_HORIZON = 3200
/** `max_results` of the timeline: 5 to 100 (docs/providers.md §2.5). */
const MIN_PAGE = 5

export interface RecentPost {
  id: string
  text: string
  createdAt: Date | null
  isRepost: boolean
  likes: number
  reposts: number
  replies: number
  quotes: number
  bookmarks: number | null
  impressions: number | null
  /** likes + reposts + replies + quotes */
  engagement: number
}

export interface TwitterRefreshResult {
  user: { id: string, username: string }
  /** The account's profile: name, avatar, bio, creation date, verified. */
  profile: XUserMe['data']
  followers: number
  following: number
  posts: number
  listed: number
  likes: number | null
  /** Newest first. */
  recent: RecentPost[]
  engagementRate: number | null
  postsSampled: number
}

export interface FetchLimits {
  maxPosts: number
  pageSize: number
}

/** A post whose fields may use either naming (`retweet_count` or `repost_count`, …). */
export function toRecentPost (post: XPost): RecentPost {
  const m = post.public_metrics
  const reposts = m.retweet_count ?? m.repost_count ?? 0
  const quotes = m.quote_count ?? 0
  const references = post.referenced_tweets ?? post.referenced_posts ?? []
  const createdAt = post.created_at === undefined ? null : new Date(post.created_at)
  return {
    id: post.id,
    text: post.text,
    createdAt: createdAt !== null && !Number.isNaN(createdAt.getTime()) ? createdAt : null,
    isRepost: references.some((r) => r.type === 'retweeted' || r.type === 'reposted'),
    likes: m.like_count,
    reposts,
    replies: m.reply_count,
    quotes,
    bookmarks: m.bookmark_count ?? null,
    impressions: m.impression_count ?? null,
    engagement: m.like_count + reposts + m.reply_count + quotes
  }
}

/**
 * Engagement rate (documented in the README and TWITTER_ENGAGEMENT_RATE_DESCRIPTION): the
 * interactions (likes + reposts + replies + quotes) per recent own post, divided by followers.
 * Reposts of other people's posts are left out: their numbers belong to someone else.
 */
export function engagementRate (recent: RecentPost[], followers: number): { rate: number | null, sampled: number } {
  const own = recent.filter((p) => !p.isRepost)
  if (own.length === 0 || followers === 0) return { rate: null, sampled: own.length }
  const interactions = own.reduce((sum, p) => sum + p.engagement, 0)
  return { rate: interactions / own.length / followers, sampled: own.length }
}

/**
 * The account's numbers (`/2/users/me`) and its recent posts (`/2/users/:id/tweets`, following
 * `meta.next_token` as `pagination_token`, up to `maxPosts` and never past the horizon).
 *
 * `knownId` is the X user id the account was linked with: the timeline is read with it at once
 * with `/2/users/me`, so a refresh takes the round trips of the timeline's pages, not one more.
 * Should `/2/users/me` answer another user for the token, that user's timeline is read after it.
 */
export async function fetchTwitterMetrics (x: XClient, session: ProviderSession, limits: FetchLimits, log: FastifyBaseLogger, knownId: string): Promise<TwitterRefreshResult> {
  const fetchMe = async () => await session.call((grant) => x.get('2/users/me', { 'user.fields': 'public_metrics,created_at,description,profile_image_url,verified' }, grant, 'GET /2/users/me', userMe))

  /** `ready`: awaited before the second page, so a refused `/2/users/me` stops the timeline after its first page. */
  const fetchTimeline = async (id: string, ready?: Promise<unknown>) => {
    const wanted = Math.min(limits.maxPosts, TIMELINE_HORIZON)
    const recent: RecentPost[] = []
    const seen = new Set<string>()
    const tokens = new Set<string>()
    let token: string | undefined
    // A bound on pages even if every page came back nearly empty.
    for (let page = 0; recent.length < wanted && page < Math.ceil(TIMELINE_HORIZON / MIN_PAGE); page++) {
      if (page === 1) await ready
      const maxResults = Math.min(limits.pageSize, Math.max(MIN_PAGE, wanted - recent.length))
      const params: Record<string, string> = {
        max_results: String(maxResults),
        // tweet.* is sent (every OpenAPI through 2.166); answers in either naming are read (§2.5).
        'tweet.fields': 'public_metrics,created_at,referenced_tweets',
        ...(token === undefined ? {} : { pagination_token: token })
      }
      const answer = await session.call((grant) => x.get(`2/users/${encodeURIComponent(id)}/tweets`, params, grant, 'GET /2/users/:id/tweets', timeline))
      if (answer.errors !== undefined && answer.errors.length > 0) log.warn({ errors: answer.errors.length }, 'X timeline answered partial errors')
      for (const post of answer.data ?? []) {
        if (recent.length >= wanted) break
        if (seen.has(post.id)) continue
        seen.add(post.id)
        recent.push(toRecentPost(post))
      }
      token = answer.meta?.next_token
      if (token === undefined || token === '' || tokens.has(token)) break
      tokens.add(token)
    }
    return recent
  }

  // Both settled before anything is thrown (no call of a failed refresh still running): with a
  // token of another user, the timeline read with the linked id does not count. X's per-user limits
  // are small (§2.5): should `/2/users/me` be refused (a 429, a revoked token), the timeline's first
  // page is the only call spent alongside it.
  const meCall = fetchMe()
  const [meAnswer, timelineAnswer] = await Promise.allSettled([meCall, fetchTimeline(knownId, meCall)])
  if (meAnswer.status === 'rejected') throw meAnswer.reason
  const me = meAnswer.value
  let recent: RecentPost[]
  if (me.data.id !== knownId) {
    log.warn({ linked: knownId, token: me.data.id }, 'the token belongs to another X user than the one linked; reading its timeline')
    recent = await fetchTimeline(me.data.id)
  } else if (timelineAnswer.status === 'rejected') {
    throw timelineAnswer.reason
  } else {
    recent = timelineAnswer.value
  }
  const metrics = me.data.public_metrics
  const posts = metrics.tweet_count ?? metrics.post_count
  if (posts === undefined) throw new ProviderRequestError(200, 'GET /2/users/me answered public_metrics without tweet_count or post_count')
  const id = me.data.id

  const { rate, sampled } = engagementRate(recent, metrics.followers_count)
  return {
    user: { id, username: me.data.username },
    profile: me.data,
    followers: metrics.followers_count,
    following: metrics.following_count,
    posts,
    listed: metrics.listed_count,
    likes: metrics.like_count ?? null,
    recent,
    engagementRate: rate,
    postsSampled: sampled
  }
}
