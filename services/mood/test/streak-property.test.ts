import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import type { MoodEntryResponse, MoodListResponse } from '@pulse/contracts'
import { build, identity, iso, newUserId, runsOfDays, storedStreaks, TestClock } from './helper.js'

// The service's streaks against a reference small enough to be obviously right: the days are
// generated first (as wall-clock times in a zone), so the expected day of every entry is known
// without asking any time zone code, and runs are counted by walking back one day at a time.

const ZONES = [
  'UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Tokyo', 'Australia/Sydney', 'Pacific/Auckland',
  'America/Los_Angeles', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Kiritimati', 'Pacific/Pago_Pago'
]
// Sixty days around the DST changes of 2024 in America (March 10), Europe (March 31) and Oceania (April 7).
const FIRST_DAY = Date.UTC(2024, 1, 20)
const SPAN_DAYS = 60

const dayAt = (offset: number): string => new Date(FIRST_DAY + offset * 86_400_000).toISOString().slice(0, 10)
const previousDay = (day: string): string => new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10)
const clockTime = (minute: number): string => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`

function reference (days: readonly string[], today: string) {
  const logged = new Set(days)
  const runEndingAt = (day: string): number => {
    let length = 0
    for (let d = day; logged.has(d); d = previousDay(d)) length++
    return length
  }
  return {
    runEndingAt,
    current: logged.has(today) ? runEndingAt(today) : runEndingAt(previousDay(today)),
    longest: Math.max(0, ...[...logged].map(runEndingAt))
  }
}

const clock = new TestClock(0)
const { app, db } = await build(t, { clock })

const scenario = fc.record({
  entries: fc.array(fc.record({
    dayOffset: fc.integer({ min: 0, max: SPAN_DAYS - 1 }),
    minute: fc.integer({ min: 0, max: 24 * 60 - 1 }),
    zone: fc.constantFrom(...ZONES),
    score: fc.integer({ min: 1, max: 5 })
  }), { maxLength: 25 }),
  todayOffset: fc.integer({ min: 0, max: SPAN_DAYS + 2 }),
  nowMinute: fc.integer({ min: 0, max: 24 * 60 - 1 }),
  requestZone: fc.constantFrom(...ZONES),
  deletions: fc.array(fc.nat(), { maxLength: 5 })
})

t.test('per-entry, current and longest streaks match the reference over random days and time zones', async (t) => {
  await fc.assert(fc.asyncProperty(scenario, async ({ entries, todayOffset, nowMinute, requestZone, deletions }) => {
    const user = newUserId()
    const today = dayAt(todayOffset)
    clock.set(iso(today, clockTime(nowMinute), requestZone))
    // Each entry is logged in its own zone (the user moves around); entries later than now are left out.
    const planned = entries
      .map((e) => ({ ...e, day: dayAt(e.dayOffset), loggedAt: iso(dayAt(e.dayOffset), clockTime(e.minute), e.zone) }))
      .filter((e) => Date.parse(e.loggedAt) <= clock.time)

    const loggedDays: string[] = []
    const ids: string[] = []
    for (const entry of planned) {
      const res = await app.inject({
        method: 'POST', url: '/mood', headers: identity(user, entry.zone), payload: { score: entry.score, loggedAt: entry.loggedAt }
      })
      assert.equal(res.statusCode, 201, res.body)
      const body = res.json<MoodEntryResponse>()
      loggedDays.push(entry.day)
      ids.push(body.entry.id)
      assert.equal(body.entry.day, entry.day, `${entry.loggedAt} in ${entry.zone}`)
      const expected = reference(loggedDays, today)
      assert.equal(body.entry.streak, expected.runEndingAt(entry.day))
      assert.equal(body.streak.longest, expected.longest)
      // "today" is the day in the zone of the request, known here only for requests made from requestZone.
      if (entry.zone === requestZone) assert.equal(body.streak.current, expected.current)
    }

    const check = async () => {
      const res = await app.inject({ url: '/mood?limit=100', headers: identity(user, requestZone) })
      assert.equal(res.statusCode, 200, res.body)
      const body = res.json<MoodListResponse>()
      const remaining = ids.map((id, i) => ({ id, day: loggedDays[i]! })).filter((e) => e.id !== '')
      const expected = reference(remaining.map((e) => e.day), today)
      assert.deepEqual(body.items.map((e) => e.id).sort(), remaining.map((e) => e.id).sort())
      for (const item of body.items) assert.equal(item.streak, expected.runEndingAt(item.day), `streak of ${item.day}`)
      assert.deepEqual(body.streak, { current: expected.current, longest: expected.longest })
    }
    await check()

    for (const pick of deletions) {
      const alive = ids.map((id, i) => ({ id, i })).filter((e) => e.id !== '')
      const victim = alive[pick % Math.max(alive.length, 1)]
      if (victim === undefined) break
      const res = await app.inject({ method: 'DELETE', url: `/mood/${victim.id}`, headers: identity(user, requestZone) })
      assert.equal(res.statusCode, 204)
      ids[victim.i] = ''
    }
    if (deletions.length > 0) await check()
  }), { numRuns: 30 })
  t.pass('30 random histories agree with the reference')
})

// Random interleavings of POSTs, DELETEs and PATCHes that move entries to other days, over a short
// span so that runs keep merging and splitting: after every request the stored runs (and the
// longest run) equal the runs of the days that still have entries, and every answer agrees with
// the reference.
const SHORT_SPAN_DAYS = 12
const zone = fc.constantFrom(...ZONES)
const when = { dayOffset: fc.integer({ min: 0, max: SHORT_SPAN_DAYS - 1 }), minute: fc.integer({ min: 0, max: 24 * 60 - 1 }), zone }
const operation = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('post' as const), ...when, score: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('move' as const), pick: fc.nat(), ...when }) }
)
const interleaving = fc.record({
  operations: fc.array(operation, { minLength: 10, maxLength: 60 }),
  // Today near the end of the span, so that few requests are in the future and current varies.
  todayOffset: fc.integer({ min: SHORT_SPAN_DAYS - 3, max: SHORT_SPAN_DAYS + 1 }),
  nowMinute: fc.integer({ min: 0, max: 24 * 60 - 1 }),
  requestZone: zone
})

t.test('stored runs follow random interleavings of posts, deletes and moves of days', async (t) => {
  await fc.assert(fc.asyncProperty(interleaving, async ({ operations, todayOffset, nowMinute, requestZone }) => {
    const user = newUserId()
    const today = dayAt(todayOffset)
    clock.set(iso(today, clockTime(nowMinute), requestZone))
    /** id → day of the entries that exist, in the order they were logged. */
    const alive = new Map<string, string>()
    const pick = (n: number): [string, string] | undefined => [...alive][n % Math.max(alive.size, 1)]

    const checkAnswer = (body: MoodEntryResponse, day: string, zone: string, what: string) => {
      const expected = reference([...alive.values()], today)
      assert.equal(body.entry.day, day, what)
      assert.equal(body.entry.streak, expected.runEndingAt(day), `${what}: streak of ${day}`)
      assert.equal(body.streak.longest, expected.longest, `${what}: longest`)
      if (zone === requestZone) assert.equal(body.streak.current, expected.current, `${what}: current`)
    }

    for (const op of operations) {
      if (op.kind === 'post') {
        const day = dayAt(op.dayOffset)
        const loggedAt = iso(day, clockTime(op.minute), op.zone)
        if (Date.parse(loggedAt) > clock.time) continue
        const res = await app.inject({ method: 'POST', url: '/mood', headers: identity(user, op.zone), payload: { score: op.score, loggedAt } })
        assert.equal(res.statusCode, 201, res.body)
        const body = res.json<MoodEntryResponse>()
        alive.set(body.entry.id, day)
        checkAnswer(body, day, op.zone, `POST on ${day}`)
      } else if (op.kind === 'delete') {
        const victim = pick(op.pick)
        if (victim === undefined) continue
        const res = await app.inject({ method: 'DELETE', url: `/mood/${victim[0]}`, headers: identity(user, requestZone) })
        assert.equal(res.statusCode, 204, res.body)
        alive.delete(victim[0])
      } else {
        const moved = pick(op.pick)
        const day = dayAt(op.dayOffset)
        const loggedAt = iso(day, clockTime(op.minute), op.zone)
        if (moved === undefined || Date.parse(loggedAt) > clock.time) continue
        const res = await app.inject({ method: 'PATCH', url: `/mood/${moved[0]}`, headers: identity(user, op.zone), payload: { loggedAt } })
        assert.equal(res.statusCode, 200, res.body)
        alive.set(moved[0], day)
        checkAnswer(res.json<MoodEntryResponse>(), day, op.zone, `PATCH from ${moved[1]} to ${day}`)
      }
      const expected = reference([...alive.values()], today)
      const stored = await storedStreaks(db, user)
      assert.deepEqual(stored.runs, runsOfDays(alive.values()), `runs after ${op.kind}`)
      assert.equal(stored.longest ?? 0, expected.longest, `longest after ${op.kind}`)
    }

    const res = await app.inject({ url: '/mood?limit=100', headers: identity(user, requestZone) })
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json<MoodListResponse>()
    const expected = reference([...alive.values()], today)
    assert.deepEqual(body.items.map((e) => e.id).sort(), [...alive.keys()].sort())
    for (const item of body.items) assert.equal(item.streak, expected.runEndingAt(item.day), `streak of ${item.day}`)
    assert.deepEqual(body.streak, { current: expected.current, longest: expected.longest })

    // Pages of three: page boundaries fall inside runs, and each page looks its runs up on its own.
    let cursor: string | null = null
    let seen = 0
    do {
      const next: LightMyRequestResponse = await app.inject({ url: `/mood?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`, headers: identity(user, requestZone) })
      assert.equal(next.statusCode, 200, next.body)
      const paged = next.json<MoodListResponse>()
      for (const item of paged.items) assert.equal(item.streak, expected.runEndingAt(item.day), `paged streak of ${item.day}`)
      seen += paged.items.length
      cursor = paged.nextCursor
    } while (cursor !== null)
    assert.equal(seen, alive.size)
  }), { numRuns: 40 })
  t.pass('40 random interleavings keep the runs equal to the reference')
})
