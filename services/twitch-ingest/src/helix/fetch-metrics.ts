import { ProviderRequestError, answerCheck, concurrently, type AnswerCheck, type ProviderGrant, type ProviderSession } from '@pulse/ingest-kit'
import type { FastifyBaseLogger } from 'fastify'
import { allPages, userBucket, type HelixClient } from './client.js'
import { fetchRecentFollowers } from './fetch-followers.js'
import {
  HelixBitsLeaderboardSchema, HelixStreamsPageSchema, HelixSubscriptionsPageSchema, HelixTotalSchema, HelixUsersSchema,
  HelixVideosPageSchema, type HelixBitsEntry, type HelixStream, type HelixStreamsPage, type HelixSubscription,
  type HelixSubscriptionsPage, type HelixVideo, type HelixVideosPage, type HelixFollower, type HelixUser
} from './schemas.js'

const users = answerCheck(HelixUsersSchema)
const total = answerCheck(HelixTotalSchema)
const subscriptionsPage = answerCheck(HelixSubscriptionsPageSchema)
const videosPage = answerCheck(HelixVideosPageSchema)
const bitsLeaderboard = answerCheck(HelixBitsLeaderboardSchema)
const streamsPage = answerCheck(HelixStreamsPageSchema)

/** Points per subscription tier (docs/providers.md §1.3). */
export const TIER_POINTS = { 1000: 1, 2000: 2, 3000: 6 } as const

export interface TwitchRefreshResult {
  user: { id: string, login: string, displayName: string }
  /** Get Users' answer for the account: the profile (avatar, description, creation date, broadcaster type). */
  profile: HelixUser
  followers: number
  /** The most recent followers, newest first; null without moderator:read:followers. */
  recentFollowers: HelixFollower[] | null
  /** Null without channel:read:subscriptions. */
  subscriptions: { total: number, points: number, tiers: Record<'1000' | '2000' | '3000', number>, list: HelixSubscription[] } | null
  /** Null without user:read:follows. */
  followedChannels: number | null
  videos: { count: number, views: number, list: HelixVideo[] }
  /** Null without bits:read. */
  bits: HelixBitsEntry[] | null
  /** Null without user:read:follows. */
  liveFollows: HelixStream[] | null
}

export interface FetchLimits {
  pageSize: number
  maxPages: number
  bitsLeaderboardSize: number
  /** How many of the most recent followers are kept. */
  recentFollowers: number
}

/**
 * Everything a snapshot holds, from Helix, with the user's token. Each call goes through the
 * session, which asks auth for a new token once when Twitch answers 401. Calls whose scope the
 * token lacks are skipped (their values stay null) rather than made to fail.
 *
 * `knownId` is the Twitch user id the account was linked with: the lists are asked for with it
 * at once with Get Users, so a refresh takes the round trips of its longest list, not one more.
 * Should Get Users answer another user for the token, the lists are asked for again with that one.
 */
export async function fetchTwitchMetrics (helix: HelixClient, session: ProviderSession, limits: FetchLimits, log: FastifyBaseLogger, knownId: string): Promise<TwitchRefreshResult> {
  const get = <T>(path: string, params: Array<[string, string]>, check: AnswerCheck<T>) =>
    session.call((grant: ProviderGrant) => helix.get(path, params, { accessToken: grant.accessToken, bucket: userBucket(grant.providerUserId) }, check))
  const has = (scope: string) => session.grant.scopes.includes(scope)
  const first = String(limits.pageSize)
  const paged = <I, P extends { data: I[], pagination?: { cursor?: string } }>(path: string, params: Array<[string, string]>, check: AnswerCheck<P>, key: (item: I) => string) =>
    allPages<I, P>((after) => get(path, [...params, ['first', first], ...(after === undefined ? [] : [['after', after] as [string, string]])], check), key, limits.maxPages)
      .then((result) => {
        if (!result.complete) log.warn({ path, pages: limits.maxPages }, 'list cut at TWITCH_MAX_PAGES')
        return result
      })

  // No parameters with a user token: the token's own user (docs/providers.md §1.3).
  const fetchMe = async () => {
    const me = (await get('users', [], users)).data[0]
    if (me === undefined) throw new ProviderRequestError(200, 'GET /helix/users answered no user for the token')
    return me
  }

  const fetchLists = async (id: string) => {
    // The total comes with any token; the list needs moderator:read:followers (the trap, §3.4).
    const fetchFollowers = async () => {
      const recent = has('moderator:read:followers') ? await fetchRecentFollowers(get, id, limits.recentFollowers) : null
      const followers = recent?.total ?? (await get('channels/followers', [['broadcaster_id', id], ['first', '1']], total)).total
      return { followers, recent }
    }

    const fetchSubscriptions = async (): Promise<TwitchRefreshResult['subscriptions']> => {
      if (!has('channel:read:subscriptions')) return null
      const result = await paged<HelixSubscription, HelixSubscriptionsPage>('subscriptions', [['broadcaster_id', id]], subscriptionsPage, (s) => s.user_id)
      const tiers = { 1000: 0, 2000: 0, 3000: 0 }
      for (const sub of result.items) tiers[sub.tier]++
      const counted = tiers[1000] * TIER_POINTS[1000] + tiers[2000] * TIER_POINTS[2000] + tiers[3000] * TIER_POINTS[3000]
      return {
        total: result.first?.total ?? result.items.length,
        points: result.first?.points ?? counted,
        tiers,
        list: result.items
      }
    }

    const fetchFollowedChannels = async () => has('user:read:follows')
      ? (await get('channels/followed', [['user_id', id], ['first', '1']], total)).total
      : null

    // Every type (archives, highlights, uploads): the channel's video count and views.
    const fetchVideos = async () => {
      const list = (await paged<HelixVideo, HelixVideosPage>('videos', [['user_id', id], ['type', 'all'], ['sort', 'time']], videosPage, (v) => v.id)).items
      return { count: list.length, views: list.reduce((sum, v) => sum + v.view_count, 0), list }
    }

    const fetchBits = async () => has('bits:read')
      ? (await get('bits/leaderboard', [['count', String(limits.bitsLeaderboardSize)], ['period', 'all']], bitsLeaderboard)).data
      : null

    const fetchLiveFollows = async () => has('user:read:follows')
      ? (await paged<HelixStream, HelixStreamsPage>('streams/followed', [['user_id', id]], streamsPage, (s) => s.id)).items
      : null

    // Independent of each other: all at once (six lists at most, each paged in turn), so a refresh
    // takes the time of its longest list, not the sum. The rate-limit budget is shared through the
    // kit's provider client, which waits when it runs low.
    return await concurrently([fetchFollowers, fetchSubscriptions, fetchFollowedChannels, fetchVideos, fetchBits, fetchLiveFollows] as const)
  }

  // Both settled before anything is thrown (as `concurrently` does): with a token of another user,
  // the lists asked for with the linked id may well have failed, and do not count.
  const [meAnswer, listsAnswer] = await Promise.allSettled([fetchMe(), fetchLists(knownId)])
  if (meAnswer.status === 'rejected') throw meAnswer.reason
  const me = meAnswer.value
  let lists: Awaited<ReturnType<typeof fetchLists>>
  if (me.id !== knownId) {
    log.warn({ linked: knownId, token: me.id }, 'the token belongs to another Twitch user than the one linked; asking for its lists')
    lists = await fetchLists(me.id)
  } else if (listsAnswer.status === 'rejected') {
    throw listsAnswer.reason
  } else {
    lists = listsAnswer.value
  }
  const id = me.id
  const [{ followers, recent }, subscriptions, followedChannels, videos, bits, liveFollows] = lists
  return { user: { id, login: me.login, displayName: me.display_name }, profile: me, followers, recentFollowers: recent?.list ?? null, subscriptions, followedChannels, videos, bits, liveFollows }
}
