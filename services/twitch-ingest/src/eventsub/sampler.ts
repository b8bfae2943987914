import type { Clock } from '@pulse/ingest-kit'
import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import type { AppTokenProvider } from '../helix/app-token.js'
import { openSessions, recordSample } from '../repositories/stream-sessions.js'

export interface SamplerOptions {
  db: Kysely<Database>
  apiUrl: string
  clientId: string
  appToken: AppTokenProvider
  timeoutMs: number
  now: Clock
  intervalMs: number
  log: FastifyBaseLogger
}

interface StreamItem { user_id: string, viewer_count: number, game_id: string, game_name: string }

/**
 * Samples the viewers of every open stream session from Get Streams (app token, up to 100 channels
 * a call, docs/providers.md §1.3). Samples are keyed by the sampling slot, so every replica may
 * sample and a slot still counts once.
 */
export function streamSampler (options: SamplerOptions) {
  const base = options.apiUrl.replace(/\/+$/, '')
  const fetchStreams = async (ids: string[], retried = false): Promise<StreamItem[]> => {
    const token = await options.appToken.token()
    const query = new URLSearchParams(ids.map((id): [string, string] => ['user_id', id]))
    query.set('first', '100')
    const res = await fetch(`${base}/streams?${query.toString()}`, {
      headers: { 'Client-Id': options.clientId, Authorization: `Bearer ${token}`, Accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs)
    })
    if (res.status === 401 && !retried) {
      await res.body?.cancel()
      options.appToken.invalidate(token)
      return await fetchStreams(ids, true)
    }
    if (res.status !== 200) {
      await res.body?.cancel()
      throw new Error(`GET /helix/streams answered ${res.status}`)
    }
    return ((await res.json()) as { data?: StreamItem[] }).data ?? []
  }

  /** One sampling round over every open session; returns how many samples were taken. */
  return async function sampleNow (): Promise<number> {
    const at = options.now()
    const slot = Math.floor(at / options.intervalMs)
    let taken = 0
    const sessions = await openSessions(options.db, 10_000)
    for (let i = 0; i < sessions.length; i += 100) {
      const batch = sessions.slice(i, i + 100)
      const live = new Map((await fetchStreams(batch.map((s) => s.broadcaster_id))).map((s) => [s.user_id, s]))
      for (const session of batch) {
        const stream = live.get(session.broadcaster_id)
        if (stream === undefined) continue
        await recordSample(options.db, { sessionId: session.id, slot, viewers: stream.viewer_count, at: new Date(at), gameId: stream.game_id, gameName: stream.game_name })
        taken++
      }
    }
    return taken
  }
}
