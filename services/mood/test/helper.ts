import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import type { MoodEntryResponse } from '@pulse/contracts'
import { sql, type Kysely } from 'kysely'
import { AUTH_STREAM } from '@pulse/contracts'
import { createDatabase, createServerOptions, EventBus, IDENTITY_HEADER, signIdentity } from '@pulse/service-kit'
import { createTestDatabase, testInfra, uniqueName, type Teardown } from '@pulse/testing'
import moodApp from '../src/app.js'
import { loadMoodConfig } from '../src/config.js'
import { MOOD_SCHEMA, type Database } from '../src/db/database.js'
import { migrate } from '../src/db/migrate.js'

export const SECRET = 'a-test-identity-secret-of-at-least-32-chars'

/** A settable clock: tests move "now" instead of waiting for days to pass. */
export class TestClock {
  constructor (public time: number) {}
  now = (): number => this.time
  set (iso: string): void { this.time = Date.parse(iso) }
}

export interface BuildOptions {
  env?: Record<string, string>
  clock?: TestClock
  /** An existing database to migrate and use (the app may reach it through env.DATABASE_URL, e.g. a proxy). */
  databaseUrl?: string
}

/**
 * The app over a fresh, migrated database of its own, closed and dropped when the test ends, and a
 * Kysely of that database for looking at the rows (the app's own stays encapsulated in it).
 */
export async function build (t: Teardown, { env = {}, clock, databaseUrl = '' }: BuildOptions = {}) {
  databaseUrl ||= await createTestDatabase(t)
  await migrate(databaseUrl)
  const infra = await testInfra()
  const config = loadMoodConfig({ IDENTITY_SECRET: SECRET, DATABASE_URL: databaseUrl, NATS_URL: infra.natsUrl, NATS_PREFIX: uniqueName('mood'), LOG_LEVEL: 'silent', ...env })
  const app = Fastify(createServerOptions(config, { logger: false }))
  await app.register(moodApp, { config, now: clock?.now })
  const db = createDatabase<Database>({ url: databaseUrl, schema: MOOD_SCHEMA, poolMax: 2 })
  // The test's own connection to the app's bus (its prefix): to publish auth's events, and to delete the stream at the end.
  const bus = await EventBus.connect({ url: config.NATS_URL, name: 'mood-test', prefix: config.NATS_PREFIX, streams: [AUTH_STREAM] })
  t.teardown(async () => {
    await app.close()
    await db.destroy()
    await bus.jsm.streams.delete(bus.streamName(AUTH_STREAM)).catch(() => {})
    await bus.close()
  })
  await app.ready()
  return { app, db, bus, config }
}

/** The gateway's signed identity header for a user in a time zone. */
export function identity (userId: string, timezone = 'UTC'): Record<string, string> {
  return { [IDENTITY_HEADER]: signIdentity({ userId, role: 'user', timezone, requestId: randomUUID(), audience: 'mood' }, SECRET) }
}

export const newUserId = (): string => randomUUID()

/** How many entries a user (or, without one, everybody) has, straight from the table. */
export async function countEntries (db: Kysely<Database>, userId?: string): Promise<number> {
  let query = db.selectFrom('entries').select((eb) => eb.fn.countAll<number>().as('n'))
  if (userId !== undefined) query = query.where('user_id', '=', userId)
  return (await query.executeTakeFirstOrThrow()).n
}

/** A run of consecutive days: [first day, last day] (YYYY-MM-DD). */
export type Run = [string, string]

const nextDay = (day: string): string => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)

/** The runs of consecutive days of a set of days, oldest first: the reference the stored runs must equal. */
export function runsOfDays (days: Iterable<string>): Run[] {
  const runs: Run[] = []
  for (const day of [...new Set(days)].sort()) {
    const last = runs[runs.length - 1]
    if (last !== undefined && nextDay(last[1]) === day) last[1] = day
    else runs.push([day, day])
  }
  return runs
}

/** What the database keeps for a user's streaks: their runs, oldest first, and their longest run (null without a row). */
export async function storedStreaks (db: Kysely<Database>, userId: string): Promise<{ runs: Run[], longest: number | null }> {
  const runs = await db.selectFrom('streak_runs')
    .select([sql<string>`first_day::text`.as('first'), sql<string>`last_day::text`.as('last')])
    .where('user_id', '=', userId).orderBy('first_day').execute()
  const summary = await db.selectFrom('user_streaks').select('longest').where('user_id', '=', userId).executeTakeFirst()
  return { runs: runs.map((r): Run => [r.first, r.last]), longest: summary?.longest ?? null }
}

/** The runs the user's entries call for, straight from the entries table, and the longest of them. */
export async function expectedStreaks (db: Kysely<Database>, userId: string): Promise<{ runs: Run[], longest: number }> {
  const rows = await db.selectFrom('entries').select(sql<string>`day::text`.as('day')).distinct().where('user_id', '=', userId).execute()
  const runs = runsOfDays(rows.map((r) => r.day))
  const length = ([first, last]: Run): number => Math.round((Date.parse(last) - Date.parse(first)) / 86_400_000) + 1
  return { runs, longest: Math.max(0, ...runs.map(length)) }
}

/** POST /mood as a user in a time zone; fails the caller loudly unless it answers 201. */
export async function logMood (app: FastifyInstance, userId: string, body: Record<string, unknown>, timezone = 'UTC'): Promise<MoodEntryResponse> {
  const res = await app.inject({ method: 'POST', url: '/mood', headers: identity(userId, timezone), payload: body })
  if (res.statusCode !== 201) throw new Error(`POST /mood answered ${res.statusCode}: ${JSON.stringify(res.json())}`)
  return res.json<MoodEntryResponse>()
}

/** The offset of a time zone from UTC at an instant, in minutes (New York in winter: -300). */
function offsetMinutes (instant: number, timeZone: string): number {
  const parts: Record<string, number> = {}
  const format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
  for (const p of format.formatToParts(instant)) if (p.type !== 'literal') parts[p.type] = Number(p.value)
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!)
  return Math.round((wall - Math.floor(instant / 1000) * 1000) / 60_000)
}

/**
 * The instant at which the wall clock in `timeZone` shows `day` at `hh:mm` — for wall times that
 * exist (not inside a spring-forward gap).
 */
export function instantAt (day: string, time: string, timeZone: string): number {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number]
  const [hour, minute] = time.split(':').map(Number) as [number, number]
  const wall = Date.UTC(year, month - 1, date, hour, minute)
  let instant = wall - offsetMinutes(wall, timeZone) * 60_000
  instant = wall - offsetMinutes(instant, timeZone) * 60_000
  return instant
}

export const iso = (day: string, time: string, timeZone: string): string => new Date(instantAt(day, time, timeZone)).toISOString()
