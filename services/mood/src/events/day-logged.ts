import { MoodDayRpcV1, type MoodDayReply } from '@pulse/contracts'
import { answerRequests, type Responder } from '@pulse/service-kit'
import type { FastifyInstance } from 'fastify'
import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/database.js'

/** `YYYY-MM-DD` naming a real date (JavaScript would read 2026-02-31 as 3 March). */
const isCalendarDay = (day: string): boolean => {
  const time = Date.parse(`${day}T00:00:00Z`)
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === day
}

/**
 * Answers notify's `rpc.mood.day-logged.v1` (core NATS request-reply, in the `mood` queue group):
 * whether the user has an entry for that day of theirs. Only a yes or no travels, never an entry.
 */
export function serveDayLogged (app: FastifyInstance, db: Kysely<Database>): void {
  let responder: Responder | undefined
  app.addHook('onReady', async () => {
    responder = await answerRequests(app.nats, MoodDayRpcV1, {
      queue: 'mood',
      handle: async ({ userId, day }): Promise<MoodDayReply> => {
        if (!isCalendarDay(day)) return { ok: false, error: 'invalid', message: 'day must be a calendar date' }
        const row = await db.selectFrom('entries').select('id').where('user_id', '=', userId).where(sql<boolean>`day = ${day}::date`).limit(1).executeTakeFirst()
        return { ok: true, logged: row !== undefined }
      },
      refuse: (why): MoodDayReply => {
        if ('problems' in why) {
          app.log.warn({ problems: why.problems }, 'day-logged request does not match its contract')
          return { ok: false, error: 'invalid', message: why.problems.join('; ') }
        }
        app.log.warn({ err: why.error }, 'day-logged request failed')
        return { ok: false, error: 'unavailable', message: 'mood could not read the entries; try again later' }
      }
    })
  })
  app.addHook('preClose', async () => { await responder?.close() })
}
