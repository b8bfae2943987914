import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { TwitchStreamHoursQuerySchema, TwitchStreamHoursSchema } from '@pulse/contracts'
import { requireIdentity } from '@pulse/service-kit'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { secondsLivePerDay } from '../repositories/stream-hours.js'

const DAY_MS = 86_400_000
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/

/**
 * The calendar date (YYYY-MM-DD) of an instant in a zone; undefined for a zone ICU does not know.
 * Only IANA names pass: Postgres reads offsets like "UTC+3" POSIX-style (the other way round).
 */
function localDay (instant: number, timeZone: string): string | undefined {
  if (!IANA_NAME.test(timeZone)) return undefined
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', calendar: 'gregory', numberingSystem: 'latn' }).format(instant)
  } catch {
    return undefined
  }
}

const hours = (seconds: number) => Math.round(seconds / 36) / 100

/** The Monday (YYYY-MM-DD) of a date's ISO week. */
function mondayOf (date: string): string {
  const day = new Date(`${date}T00:00:00Z`)
  const back = (day.getUTCDay() + 6) % 7
  return new Date(day.getTime() - back * DAY_MS).toISOString().slice(0, 10)
}

/** Hours streamed per day and per week, from the stream sessions (EventSub). */
export default async function streamHoursRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const db = app.db as Kysely<Database>
  const { errorResponses: errors, connected, now } = app.ingestRoutes

  app.get('/twitch/streams/hours', {
    schema: {
      summary: 'Twitch hours streamed',
      description: 'Hours live per day and per ISO week (Monday first) over the last `days` days, in the user\'s time zone, ' +
        'from the stream sessions (a stream across midnight counts on both days; a live stream counts up to now). ' +
        'Filled from EventSub, so zero where EventSub is off.',
      tags: ['twitch'],
      querystring: TwitchStreamHoursQuerySchema,
      response: { 200: { ...TwitchStreamHoursSchema, description: 'Hours streamed' }, ...errors(400, 401, 409, 500, 503) }
    }
  }, async (request) => {
    const account = await connected(request)
    const requested = requireIdentity(request).timezone
    const at = now()
    const timezone = localDay(at, requested) === undefined ? 'UTC' : requested
    const days = request.query.days ?? 28
    const to = localDay(at, timezone)!
    const from = new Date(Date.parse(`${to}T00:00:00Z`) - (days - 1) * DAY_MS).toISOString().slice(0, 10)
    const perDay = await secondsLivePerDay(db, account.user_id, timezone, from, to, new Date(at))
    const weeks = new Map<string, number>()
    for (const d of perDay) weeks.set(mondayOf(d.date), (weeks.get(mondayOf(d.date)) ?? 0) + d.seconds)
    return {
      timezone,
      from,
      to,
      totalHours: hours(perDay.reduce((sum, d) => sum + d.seconds, 0)),
      days: perDay.map((d) => ({ date: d.date, hours: hours(d.seconds) })),
      weeks: [...weeks].map(([weekStart, seconds]) => ({ weekStart, hours: hours(seconds) }))
    }
  })
}
