import { answerCheck, type Clock } from '@pulse/ingest-kit'
import { appGet, type AppGet, type AppTokenProvider } from './helix/app-token.js'
import type { HelixClient } from './helix/client.js'
import {
  HelixGamesPageSchema, HelixStreamsPageSchema, HelixUsersSchema, type HelixGame, type HelixStream, type HelixUser
} from './helix/schemas.js'
import type { LookupCache } from './plugins/lookup-cache.js'

const usersAnswer = answerCheck(HelixUsersSchema)
const gamesAnswer = answerCheck(HelixGamesPageSchema)
const streamsAnswer = answerCheck(HelixStreamsPageSchema)

/** What a look-up answers: Twitch's value (null: Twitch has none) and when it was fetched. */
export interface Fetched<T> { value: T, fetchedAt: number }

export interface TwitchLookupsOptions {
  helix: HelixClient
  appToken: AppTokenProvider
  cache: LookupCache
  /** An answer younger than this is served from the cache without asking Twitch. */
  ttlS: number
  /** An older one is still kept this long, and served when Twitch cannot be asked (down, budget spent). */
  staleS: number
  now: Clock
}

/**
 * Mini_TTV's look-ups (a user by login or id, a category by id, the live streams of a category)
 * with the app access token, through the kit's provider client and so within the app's rate-limit
 * budget (docs/providers.md §1.4). Answers, "none" included, are cached in Redis for every replica;
 * when Twitch cannot be asked, a stale answer is better than none.
 */
export class TwitchLookups {
  private readonly get: AppGet

  constructor (private readonly options: TwitchLookupsOptions) {
    this.get = appGet(options.helix, options.appToken)
  }

  async user (by: { login: string } | { id: string }): Promise<Fetched<HelixUser | null>> {
    const [param, value] = 'login' in by ? ['login', by.login.toLowerCase()] : ['id', by.id]
    return await this.cached(`twitch:lookup:user:${param}:${value}`, async () =>
      (await this.get('users', [[param, value]], usersAnswer)).data[0] ?? null)
  }

  async game (id: string): Promise<Fetched<HelixGame | null>> {
    return await this.cached(`twitch:lookup:game:${id}`, async () =>
      (await this.get('games', [['id', id]], gamesAnswer)).data[0] ?? null)
  }

  /** One page of the category's live streams; `after` is the cursor Twitch gave for it. */
  async streams (gameId: string, first: number, after: string | undefined): Promise<Fetched<{ data: HelixStream[], cursor: string | null }>> {
    const params: Array<[string, string]> = [['game_id', gameId], ['type', 'live'], ['first', String(first)], ...(after === undefined ? [] : [['after', after] as [string, string]])]
    return await this.cached(`twitch:lookup:streams:${gameId}:${first}:${after ?? ''}`, async () => {
      const page = await this.get('streams', params, streamsAnswer)
      const cursor = page.pagination?.cursor
      return { data: page.data, cursor: cursor === undefined || cursor === '' ? null : cursor }
    })
  }

  private async cached<T> (key: string, fetch: () => Promise<T>): Promise<Fetched<T>> {
    const { cache, ttlS, staleS, now } = this.options
    const hit = await cache.get<Fetched<T>>(key)
    if (hit !== undefined && now() - hit.fetchedAt < ttlS * 1000) return hit
    let value: T
    try {
      value = await fetch()
    } catch (error) {
      if (hit !== undefined) return hit
      throw error
    }
    const fetched = { value, fetchedAt: now() }
    await cache.set(key, fetched, ttlS + staleS)
    return fetched
  }

}
