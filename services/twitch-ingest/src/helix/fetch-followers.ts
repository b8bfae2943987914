import { answerCheck, type AnswerCheck } from '@pulse/ingest-kit'
import { allPages } from './client.js'
import { HelixFollowersPageSchema, type HelixFollower, type HelixFollowersPage } from './schemas.js'

const followersPage = answerCheck(HelixFollowersPageSchema)

type Get = <T>(path: string, params: Array<[string, string]>, check: AnswerCheck<T>) => Promise<T>

/**
 * The follower total and the `max` most recent followers (Get Channel Followers, newest first, with
 * `followed_at`; docs/providers.md §1.3). Needs moderator:read:followers: without it Twitch answers
 * the total and an empty list, and the caller asks for the total alone instead.
 */
export async function fetchRecentFollowers (get: Get, broadcasterId: string, max: number): Promise<{ total: number, list: HelixFollower[] }> {
  const first = String(Math.min(100, max))
  const result = await allPages<HelixFollower, HelixFollowersPage>(
    (after) => get('channels/followers', [['broadcaster_id', broadcasterId], ['first', first], ...(after === undefined ? [] : [['after', after] as [string, string]])], followersPage),
    (f) => f.user_id,
    Math.ceil(max / 100)
  )
  return { total: result.first?.total ?? result.items.length, list: result.items.slice(0, max) }
}
