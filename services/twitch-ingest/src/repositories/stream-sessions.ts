import { sql } from 'kysely'
import type { Db } from '../db/database.js'

export interface StreamSessionRow {
  id: string
  stream_id: string
  started_at: Date
  ended_at: Date | null
  game_id: string | null
  game_name: string | null
  peak: number | null
  average: number | null
  samples: number
}

/**
 * Opens the channel's session for a stream; a session still open (its offline message was lost)
 * ends where the new one starts. Returns the session's id, or undefined when this stream already has one.
 */
export async function openSession (db: Db, session: { userId: string, broadcasterId: string, streamId: string, startedAt: Date }): Promise<string | undefined> {
  await db.updateTable('stream_sessions').set({ ended_at: session.startedAt })
    .where('user_id', '=', session.userId).where('ended_at', 'is', null).where('stream_id', '<>', session.streamId).execute()
  const row = await db.insertInto('stream_sessions')
    .values({ user_id: session.userId, broadcaster_id: session.broadcasterId, stream_id: session.streamId, started_at: session.startedAt })
    .onConflict((c) => c.doNothing())
    .returning('id')
    .executeTakeFirst()
  return row?.id
}

/** Ends the open session; returns its id, or undefined when none was open. */
export async function closeSession (db: Db, userId: string, endedAt: Date): Promise<string | undefined> {
  const row = await db.updateTable('stream_sessions').set({ ended_at: sql<Date>`greatest(started_at, ${endedAt})` })
    .where('user_id', '=', userId).where('ended_at', 'is', null).returning('id').executeTakeFirst()
  return row?.id
}

export async function openSessions (db: Db, limit: number): Promise<Array<{ id: string, broadcaster_id: string, game_id: string | null }>> {
  return await db.selectFrom('stream_sessions').select(['id', 'broadcaster_id', 'game_id']).where('ended_at', 'is', null).orderBy('id').limit(limit).execute()
}

/** One sample per session and slot, whichever replica takes it first. */
export async function recordSample (db: Db, sample: { sessionId: string, slot: number, viewers: number, at: Date, gameId: string, gameName: string }): Promise<void> {
  await db.insertInto('stream_samples').values({ session_id: sample.sessionId, slot: sample.slot, viewers: sample.viewers, sampled_at: sample.at })
    .onConflict((c) => c.doNothing()).execute()
  await db.updateTable('stream_sessions').set({ game_id: sample.gameId, game_name: sample.gameName })
    .where('id', '=', sample.sessionId).where('ended_at', 'is', null).execute()
}

/** The channel's sessions, newest first, with their samples' peak and mean. */
export async function listSessions (db: Db, userId: string, offset: number, limit: number): Promise<StreamSessionRow[]> {
  const rows = await db.selectFrom('stream_sessions as s')
    .leftJoin('stream_samples as x', 'x.session_id', 's.id')
    .select(['s.id', 's.stream_id', 's.started_at', 's.ended_at', 's.game_id', 's.game_name'])
    .select(sql<string | null>`max(x.viewers)`.as('peak'))
    .select(sql<string | null>`avg(x.viewers)`.as('average'))
    .select(sql<string>`count(x.slot)`.as('samples'))
    .where('s.user_id', '=', userId)
    .groupBy('s.id')
    .orderBy('s.started_at', 'desc').orderBy('s.id', 'desc')
    .offset(offset).limit(limit)
    .execute()
  return rows.map((r) => ({
    ...r,
    peak: r.peak === null ? null : Number(r.peak),
    average: r.average === null ? null : Math.round(Number(r.average) * 100) / 100,
    samples: Number(r.samples)
  }))
}

export async function deleteSessions (db: Db, userId: string): Promise<void> {
  await db.deleteFrom('stream_sessions').where('user_id', '=', userId).execute()
}
