import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Kysely } from 'kysely'
import {
  CreateMoodEntryBodySchema, CreateMoodEntryHeadersSchema, ErrorResponseSchema, MoodEntryResponseSchema, MoodIdParamsSchema,
  MoodListQuerySchema, MoodListResponseSchema, MoodStatsQuerySchema, MoodStatsResponseSchema, UpdateMoodEntryBodySchema,
  type MoodEntry, type MoodEntryResponse
} from '@pulse/contracts'
import { requireIdentity } from '@pulse/service-kit'
import Type from 'typebox'
import { addDays, localDay } from '../calendar.js'
import type { MoodConfig } from '../config.js'
import { decodeCursor, EARLIEST_LOGGED_AT, encodeCursor } from '../cursor.js'
import type { Database } from '../db/database.js'
import { transactionRunner, type Runner } from '../db/statements.js'
import { MoodEntryNotFoundError, MoodIdempotencyConflictError, MoodValidationError } from '../errors.js'
import { deleteEntry, insertEntry, updateEntry, type EntryChanges, type EntryRow, type NewEntry } from '../repositories/entries.js'
import { claimIdempotencyKey, findIdempotentResponse, storeIdempotentResponse } from '../repositories/idempotency.js'
import { readDailyTotals } from '../repositories/stats.js'
import { pageReader, readStreaks } from '../repositories/streaks.js'
import { requestClock, type RequestClock } from '../request-clock.js'
import { summarizeStats } from '../stats.js'

export interface MoodRoutesOptions {
  config: MoodConfig
  /** The clock (milliseconds since the epoch); tests pass their own. */
  now: () => number
  db: Kysely<Database>
  /** The hot paths' statements, prepared on the pool of `db`. */
  statements: Runner
}

const ERROR_RESPONSES: Record<number, string> = {
  400: 'Bad input; the message names the field',
  401: 'Not logged in: no valid identity assertion from the gateway',
  404: 'No such entry for this user',
  409: 'This Idempotency-Key was used with a different body',
  500: 'Something went wrong on our side',
  503: 'Postgres is unavailable; retry shortly'
}

/** The error statuses a route can answer, each with the one error shape. */
const errors = (...statuses: number[]) =>
  Object.fromEntries([400, 401, ...statuses, 500, 503].map((status) => [status, Type.Object(ErrorResponseSchema.properties, { additionalProperties: false, description: ERROR_RESPONSES[status] })]))

function toEntry (row: EntryRow, streak: number): MoodEntry {
  return { id: row.id, score: row.score, label: row.label, note: row.note, loggedAt: row.loggedAt, day: row.day, streak }
}

/** Postgres text cannot hold NUL characters: refuse them as bad input rather than fail on insert. */
function checkText (value: string | null | undefined, field: string): void {
  if (typeof value === 'string' && value.includes('\u0000')) throw new MoodValidationError(`body/${field} must not contain NUL characters`)
}

/** A loggedAt as an instant (millisecond precision, like every cursor), refused when in the future beyond the allowed skew. */
function parseLoggedAt (value: string, clock: RequestClock, futureSkewSeconds: number): Date {
  const time = Date.parse(value)
  // The schema accepts RFC 3339 forms Date cannot read (leap seconds, RFC 9557 zone suffixes).
  if (Number.isNaN(time)) throw new MoodValidationError('body/loggedAt must be a date-time such as 2024-03-01T18:30:00Z')
  if (time < EARLIEST_LOGGED_AT) throw new MoodValidationError('body/loggedAt must not be before 1900-01-01')
  if (time > clock.now + futureSkewSeconds * 1000) throw new MoodValidationError('body/loggedAt must not be in the future')
  return new Date(time)
}

/** The same body always hashes the same, whatever the order of its fields. */
function hashBody (body: Record<string, unknown>): string {
  const canonical = JSON.stringify(Object.keys(body).sort().map((key) => [key, body[key]]))
  return createHash('sha256').update(canonical).digest('hex')
}

async function entryResponse (run: Runner, userId: string, row: EntryRow, today: string): Promise<MoodEntryResponse> {
  const { streak, dayStreak } = await readStreaks(run, userId, today, row.day)
  return { entry: toEntry(row, dayStreak ?? 1), streak }
}

export default async function moodRoutes (fastify: FastifyInstance, { config, now, db, statements }: MoodRoutesOptions) {
  // Every route's request and reply types come from its schema.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  // One row more than a page, to know whether another page follows.
  const listEntriesWithStreaks = pageReader(config.MOOD_PAGE_SIZE_DEFAULT + 1)

  app.post('/mood', {
    schema: {
      tags: ['mood'],
      summary: 'Log how you feel',
      description: "Keeps the entry with its day in the user's time zone and answers the streak. " +
        'With an Idempotency-Key, a retry with the same body answers the first result instead of logging twice.',
      headers: CreateMoodEntryHeadersSchema,
      body: CreateMoodEntryBodySchema,
      response: { 201: { ...MoodEntryResponseSchema, description: 'The new entry and the streak' }, ...errors(409) }
    }
  }, async (request, reply) => {
    const clock = requestClock(request, now)
    const { body } = request
    checkText(body.label, 'label')
    checkText(body.note, 'note')
    const loggedAt = body.loggedAt === undefined ? new Date(clock.now) : parseLoggedAt(body.loggedAt, clock, config.MOOD_FUTURE_SKEW_SECONDS)
    const entry: NewEntry = {
      userId: clock.userId,
      score: body.score,
      label: body.label ?? null,
      note: body.note ?? null,
      loggedAt,
      day: localDay(loggedAt, clock.timeZone),
      timezone: clock.timeZone
    }
    const create = async (run: Runner) => entryResponse(run, clock.userId, await insertEntry(run, entry), clock.today)

    // Without a key the insert is one statement that commits at once: the user's streak lock
    // (taken by the trigger that keeps the runs) is held only while Postgres runs it, and the
    // streak is read after the commit.
    const key = request.headers['idempotency-key']
    if (key === undefined) return reply.code(201).send(await create(statements))

    const requestHash = hashBody(body)
    const outcome = await db.transaction().execute(async (trx) => {
      if (await claimIdempotencyKey(trx, clock.userId, key, requestHash)) {
        const response = await create(transactionRunner(trx))
        await storeIdempotentResponse(trx, clock.userId, key, 201, response)
        return { replayed: false, statusCode: 201 as const, response }
      }
      const stored = await findIdempotentResponse(trx, clock.userId, key)
      if (stored === undefined) throw new Error('idempotency key taken but its response is missing')
      if (stored.requestHash !== requestHash) throw new MoodIdempotencyConflictError()
      return { replayed: true, statusCode: stored.statusCode, response: stored.response }
    })
    if (outcome.replayed) void reply.header('idempotent-replayed', 'true')
    return reply.code(outcome.statusCode).send(outcome.response)
  })

  app.get('/mood', {
    schema: {
      tags: ['mood'],
      summary: 'Your entries, newest first, with your streak',
      description: 'from/to filter by day (inclusive). Pass nextCursor as cursor for the next page; it is null on the last one.',
      querystring: MoodListQuerySchema,
      response: { 200: { ...MoodListResponseSchema, description: 'A page of entries, newest first, and the streak' }, ...errors() }
    }
  }, async (request) => {
    const clock = requestClock(request, now)
    const { from, to, cursor } = request.query
    const limit = request.query.limit ?? config.MOOD_PAGE_SIZE_DEFAULT
    if (limit > config.MOOD_PAGE_SIZE_MAX) throw new MoodValidationError(`querystring/limit must be <= ${config.MOOD_PAGE_SIZE_MAX}`)
    if (from !== undefined && to !== undefined && from > to) throw new MoodValidationError('querystring/from must not be after querystring/to')
    const after = cursor === undefined ? undefined : decodeCursor(cursor)
    if (cursor !== undefined && after === undefined) throw new MoodValidationError('querystring/cursor is not a cursor this list gave out')

    // One statement: the page and one entry more, the streak of each entry and the user's streak.
    const { entries, streak } = await listEntriesWithStreaks(statements, clock.userId, clock.today, { from, to, after, limit: limit + 1 })
    const more = entries.length > limit
    if (more) entries.length = limit
    const last = entries[entries.length - 1]
    const nextCursor = more && last !== undefined ? encodeCursor({ loggedAt: new Date(last.loggedAt), id: last.id }) : null
    return { items: entries, nextCursor, streak }
  })

  app.get('/mood/stats', {
    schema: {
      tags: ['mood'],
      summary: 'Averages and distributions over the last days',
      description: "The period is `days` days ending today in the user's time zone: average score, count per score, " +
        'average per weekday and entries per day (every day of the period, for a chart).',
      querystring: MoodStatsQuerySchema,
      response: { 200: { ...MoodStatsResponseSchema, description: 'The stats of the period' }, ...errors() }
    }
  }, async (request) => {
    const clock = requestClock(request, now)
    const { days } = request.query
    if (days > config.MOOD_STATS_MAX_DAYS) throw new MoodValidationError(`querystring/days must be <= ${config.MOOD_STATS_MAX_DAYS}`)
    const totals = await readDailyTotals(db, clock.userId, addDays(clock.today, 1 - days), days)
    return summarizeStats(days, totals)
  })

  app.patch('/mood/:id', {
    schema: {
      tags: ['mood'],
      summary: 'Change one of your entries',
      description: "A new loggedAt moves the entry to its day in the request's time zone. label and note accept null to clear them.",
      params: MoodIdParamsSchema,
      body: UpdateMoodEntryBodySchema,
      response: { 200: { ...MoodEntryResponseSchema, description: 'The changed entry and the streak' }, ...errors(404) }
    }
  }, async (request) => {
    const clock = requestClock(request, now)
    const { body } = request
    checkText(body.label, 'label')
    checkText(body.note, 'note')
    const changes: EntryChanges = {}
    if (body.score !== undefined) changes.score = body.score
    if (body.label !== undefined) changes.label = body.label
    if (body.note !== undefined) changes.note = body.note
    if (body.loggedAt !== undefined) {
      const loggedAt = parseLoggedAt(body.loggedAt, clock, config.MOOD_FUTURE_SKEW_SECONDS)
      changes.logged_at = loggedAt
      changes.day = localDay(loggedAt, clock.timeZone)
      changes.timezone = clock.timeZone
    }
    const row = await updateEntry(db, clock.userId, request.params.id, changes)
    if (row === undefined) throw new MoodEntryNotFoundError()
    return entryResponse(statements, clock.userId, row, clock.today)
  })

  app.delete('/mood/:id', {
    schema: {
      tags: ['mood'],
      summary: 'Delete one of your entries',
      params: MoodIdParamsSchema,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errors(404) }
    }
  }, async (request, reply) => {
    const { userId } = requireIdentity(request)
    if (!(await deleteEntry(db, userId, request.params.id))) throw new MoodEntryNotFoundError()
    return reply.code(204).send(null)
  })
}
