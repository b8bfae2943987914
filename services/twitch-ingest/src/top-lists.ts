import { answerCheck, type Clock } from '@pulse/ingest-kit'
import type { FastifyBaseLogger } from 'fastify'
import { appGet, type AppTokenProvider } from './helix/app-token.js'
import type { HelixClient } from './helix/client.js'
import {
  HelixGamesPageSchema, HelixStreamsPageSchema, type HelixGame, type HelixStream
} from './helix/schemas.js'

const streamsPage = answerCheck(HelixStreamsPageSchema)
const gamesPage = answerCheck(HelixGamesPageSchema)

/**
 * A list fetched at most once per `ttlMs` (per replica); callers in the meantime share the cached
 * copy or the fetch in flight. When a fetch fails, a copy already held is served instead.
 */
export class CachedList<T> {
  private value: { items: T[], fetchedAt: number } | undefined
  private pending: Promise<{ items: T[], fetchedAt: number }> | undefined

  constructor (private readonly fetcher: () => Promise<T[]>, private readonly ttlMs: number, private readonly now: Clock, private readonly log: FastifyBaseLogger) {}

  async get (): Promise<{ items: T[], fetchedAt: number }> {
    if (this.value !== undefined && this.now() - this.value.fetchedAt < this.ttlMs) return this.value
    this.pending ??= this.refresh().finally(() => { this.pending = undefined })
    return await this.pending
  }

  private async refresh (): Promise<{ items: T[], fetchedAt: number }> {
    try {
      const items = await this.fetcher()
      this.value = { items, fetchedAt: this.now() }
      return this.value
    } catch (error) {
      if (this.value === undefined) throw error
      this.log.warn({ err: error }, 'top list refresh failed; serving the cached copy')
      return this.value
    }
  }
}

export interface TopLists {
  streams: CachedList<HelixStream>
  games: CachedList<HelixGame>
}

/** Top streams and games with the app access token (a refused token is replaced once). */
export function createTopLists (helix: HelixClient, appToken: AppTokenProvider, options: { size: number, ttlMs: number, now: Clock, log: FastifyBaseLogger }): TopLists {
  const get = appGet(helix, appToken)
  const first: [string, string] = ['first', String(options.size)]
  return {
    streams: new CachedList(async () => (await get('streams', [['type', 'live'], first], streamsPage)).data, options.ttlMs, options.now, options.log),
    games: new CachedList(async () => (await get('games/top', [first], gamesPage)).data, options.ttlMs, options.now, options.log)
  }
}
