import t from 'tap'
import { build, countEntries, identity, logMood, newUserId, TestClock } from './helper.js'

const NOW = '2024-03-05T12:00:00.000Z'
const clock = new TestClock(Date.parse(NOW))
const { app, db } = await build(t, { clock })
const minutesFromNow = (minutes: number): string => new Date(Date.parse(NOW) + minutes * 60_000).toISOString()

t.test('bad bodies of POST /mood answer 400 naming the field, and store nothing', async (t) => {
  const user = newUserId()
  const cases: [unknown, RegExp][] = [
    [{ score: 0 }, /^body\/score must be >= 1$/],
    [{ score: 6 }, /^body\/score must be <= 5$/],
    [{ score: 3.5 }, /^body\/score must be integer$/],
    [{ score: '4' }, /^body\/score must be integer$/],
    [{ score: null }, /^body\/score must be integer$/],
    [{}, /^body\/score is required$/],
    [{ label: 'happy' }, /^body\/score is required$/],
    [{ score: 3, mood: 'happy' }, /^body\/mood is not an allowed field$/],
    [{ score: 3, note: 'x'.repeat(1001) }, /^body\/note must not have more than 1000 characters$/],
    [{ score: 3, label: 'x'.repeat(41) }, /^body\/label must not have more than 40 characters$/],
    [{ score: 3, label: 7 }, /^body\/label must be string$/],
    [{ score: 3, note: 'before\u0000after' }, /^body\/note must not contain NUL characters$/],
    [{ score: 3, loggedAt: 'yesterday' }, /^body\/loggedAt must match format "date-time"$/],
    [{ score: 3, loggedAt: '2024-03-01' }, /^body\/loggedAt must match format "date-time"$/],
    [{ score: 3, loggedAt: '2024-03-01T10:00:00' }, /^body\/loggedAt must match format "date-time"$/],
    [{ score: 3, loggedAt: '2024-03-01T10:00:00Z[Europe/Paris]' }, /^body\/loggedAt must be a date-time such as/],
    [{ score: 3, loggedAt: '1899-12-31T23:59:59Z' }, /^body\/loggedAt must not be before 1900-01-01$/],
    [{ score: 3, loggedAt: minutesFromNow(6) }, /^body\/loggedAt must not be in the future$/],
    [{ score: 3, loggedAt: '2999-01-01T00:00:00Z' }, /^body\/loggedAt must not be in the future$/],
    [[4], /^body must be object$/],
    ['4', /^body must be object$/]
  ]
  for (const [payload, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/mood', headers: { ...identity(user), 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
    t.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 80))
    t.match(res.json(), { statusCode: 400, error: 'Bad Request', code: 'MOOD_VALIDATION', message })
  }
  t.equal(await countEntries(db, user), 0, 'nothing was stored')
})

t.test('labels and notes at their limits and loggedAt within the clock-skew allowance are accepted', async (t) => {
  const user = newUserId()
  const { entry } = await logMood(app, user, { score: 1, label: 'x'.repeat(40), note: 'é'.repeat(1000), loggedAt: minutesFromNow(4) })
  t.equal(entry.label, 'x'.repeat(40))
  t.equal(entry.note?.length, 1000)
  t.equal(entry.loggedAt, minutesFromNow(4))
  const precise = await logMood(app, user, { score: 5, loggedAt: '2024-03-01T10:00:00.123456+01:00' })
  t.equal(precise.entry.loggedAt, '2024-03-01T09:00:00.123Z', 'stored to the millisecond, in UTC')
})

t.test('an unknown time zone in the identity assertion answers 400 naming it', async (t) => {
  const user = newUserId()
  for (const zone of ['Mars/Olympus_Mons', '+05:00', 'UTC+3', '']) {
    for (const request of [
      { method: 'POST' as const, url: '/mood', payload: { score: 3 } },
      { method: 'GET' as const, url: '/mood' },
      { method: 'GET' as const, url: '/mood/stats' }
    ]) {
      const res = await app.inject({ ...request, headers: identity(user, zone) })
      t.equal(res.statusCode, 400, `${request.method} ${request.url} in "${zone}"`)
      t.match(res.json(), { code: 'MOOD_VALIDATION', message: /^identity\/timezone ".*" is not a known IANA time zone$/ })
    }
  }
  t.equal(await countEntries(db, user), 0)
})

t.test('bad queries of GET /mood answer 400 naming the field', async (t) => {
  const user = newUserId()
  const notOurs = Buffer.from(JSON.stringify({ offset: 20 })).toString('base64url')
  const wrongId = Buffer.from(JSON.stringify([Date.parse(NOW), 'not-a-uuid'])).toString('base64url')
  const outOfRange = Buffer.from(JSON.stringify([-8.64e15, '6f1c1a4e-0000-4000-8000-000000000000'])).toString('base64url')
  const cases: [string, RegExp][] = [
    ['cursor=garbage!!', /^querystring\/cursor is not a cursor this list gave out$/],
    [`cursor=${notOurs}`, /^querystring\/cursor /],
    [`cursor=${wrongId}`, /^querystring\/cursor /],
    [`cursor=${outOfRange}`, /^querystring\/cursor /],
    [`cursor=${'a'.repeat(201)}`, /^querystring\/cursor must not have more than 200 characters$/],
    ['from=2024-03-05&to=2024-03-01', /^querystring\/from must not be after querystring\/to$/],
    ['from=2024-02-30', /^querystring\/from must match format "date"$/],
    ['to=March', /^querystring\/to must match format "date"$/],
    ['limit=0', /^querystring\/limit must be >= 1$/],
    ['limit=101', /^querystring\/limit must be <= 100$/],
    ['limit=ten', /^querystring\/limit must be integer$/],
    ['sort=asc', /^querystring\/sort is not an allowed field$/]
  ]
  for (const [query, message] of cases) {
    const res = await app.inject({ url: `/mood?${query}`, headers: identity(user) })
    t.equal(res.statusCode, 400, query.slice(0, 60))
    t.match(res.json(), { code: 'MOOD_VALIDATION', message })
  }
  t.equal((await app.inject({ url: '/mood?limit=100&from=2024-03-01&to=2024-03-01', headers: identity(user) })).statusCode, 200, 'the limits themselves are fine')
})

t.test('bad queries of GET /mood/stats answer 400 naming the field', async (t) => {
  const user = newUserId()
  for (const [query, message] of [
    ['days=0', /^querystring\/days must be >= 1$/],
    ['days=367', /^querystring\/days must be <= 366$/],
    ['days=month', /^querystring\/days must be integer$/]
  ] as const) {
    const res = await app.inject({ url: `/mood/stats?${query}`, headers: identity(user) })
    t.equal(res.statusCode, 400, query)
    t.match(res.json(), { code: 'MOOD_VALIDATION', message })
  }
  t.equal((await app.inject({ url: '/mood/stats?days=366', headers: identity(user) })).statusCode, 200)
})

t.test('bad bodies of PATCH /mood/:id answer 400 and change nothing', async (t) => {
  const user = newUserId()
  const { entry } = await logMood(app, user, { score: 3, label: 'fine', loggedAt: '2024-03-04T10:00:00Z' })
  const cases: [unknown, RegExp][] = [
    [{}, /^body must not have fewer than 1 properties$/],
    [{ score: 6 }, /^body\/score must be <= 5$/],
    [{ score: '5' }, /^body\/score must be integer$/],
    [{ score: 5, day: '2024-03-01' }, /^body\/day is not an allowed field$/],
    [{ score: 5, label: 'x'.repeat(41) }, /^body\/label must not have more than 40 characters$/],
    [{ score: 5, note: '\u0000' }, /^body\/note must not contain NUL characters$/],
    [{ score: 5, loggedAt: minutesFromNow(60) }, /^body\/loggedAt must not be in the future$/],
    [{ score: 5, loggedAt: null }, /^body\/loggedAt must be string$/]
  ]
  for (const [payload, message] of cases) {
    const res = await app.inject({ method: 'PATCH', url: `/mood/${entry.id}`, headers: identity(user), payload: payload as object })
    t.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 80))
    t.match(res.json(), { code: 'MOOD_VALIDATION', message })
  }
  const row = await db.selectFrom('entries').select(['score', 'label', 'logged_at']).where('id', '=', entry.id).executeTakeFirstOrThrow()
  t.same(row, { score: 3, label: 'fine', logged_at: new Date('2024-03-04T10:00:00Z') }, 'the entry is as it was')
})
