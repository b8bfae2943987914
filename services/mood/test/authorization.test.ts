import t from 'tap'
import type { MoodListResponse, MoodStats } from '@pulse/contracts'
import { IDENTITY_HEADER, signIdentity } from '@pulse/service-kit'
import { build, countEntries, identity, logMood, newUserId, SECRET, TestClock } from './helper.js'

const clock = new TestClock(Date.parse('2024-03-05T12:00:00Z'))
const { app, db } = await build(t, { clock })

t.test('user B can neither read, change nor delete user A\'s entries: 404 as if they did not exist', async (t) => {
  const alice = newUserId()
  const bob = newUserId()
  const { entry } = await logMood(app, alice, { score: 4, label: 'calm', note: 'a private note', loggedAt: '2024-03-05T08:00:00Z' })
  await logMood(app, bob, { score: 2, loggedAt: '2024-03-04T08:00:00Z' })

  const list = await app.inject({ url: '/mood', headers: identity(bob) })
  t.equal(list.statusCode, 200)
  const bobs = list.json<MoodListResponse>()
  t.equal(bobs.items.length, 1)
  t.notMatch(list.body, /private note|calm/, 'another user\'s entries never appear in the list')
  t.same(bobs.streak, { current: 1, longest: 1 }, 'nor count in the streak')

  const stats = await app.inject({ url: '/mood/stats?days=7', headers: identity(bob) })
  t.equal(stats.json<MoodStats>().count, 1, 'nor in the stats')

  const unknownId = '6f1c1a4e-0000-4000-8000-000000000000'
  for (const id of [entry.id, unknownId]) {
    const patch = await app.inject({ method: 'PATCH', url: `/mood/${id}`, headers: identity(bob), payload: { score: 1 } })
    t.equal(patch.statusCode, 404)
    t.same(patch.json(), { statusCode: 404, error: 'Not Found', message: 'No mood entry with this id', code: 'MOOD_NOT_FOUND' }, 'the same answer for another user\'s entry and for no entry')
    const del = await app.inject({ method: 'DELETE', url: `/mood/${id}`, headers: identity(bob) })
    t.equal(del.statusCode, 404)
    t.equal(del.json().code, 'MOOD_NOT_FOUND')
  }

  const row = await db.selectFrom('entries').select(['score', 'label', 'note']).where('id', '=', entry.id).executeTakeFirstOrThrow()
  t.same(row, { score: 4, label: 'calm', note: 'a private note' }, 'A\'s entry is unchanged')
  t.equal(await countEntries(db, alice), 1, 'and still there')

  const own = await app.inject({ method: 'PATCH', url: `/mood/${entry.id}`, headers: identity(alice), payload: { score: 5 } })
  t.equal(own.statusCode, 200, 'A can change it')
  t.equal(own.json().entry.score, 5)
})

t.test('a malformed id answers 400, never 500', async (t) => {
  const user = newUserId()
  for (const id of ['not-a-uuid', '123', "1' or '1'='1", '6f1c1a4e-0000-4000-8000-00000000000g']) {
    const patch = await app.inject({ method: 'PATCH', url: `/mood/${encodeURIComponent(id)}`, headers: identity(user), payload: { score: 1 } })
    t.equal(patch.statusCode, 400, id)
    t.match(patch.json(), { code: 'MOOD_VALIDATION', message: /params\/id/ })
    const del = await app.inject({ method: 'DELETE', url: `/mood/${encodeURIComponent(id)}`, headers: identity(user) })
    t.equal(del.statusCode, 400, id)
  }
})

t.test('without an identity every mood route answers 401', async (t) => {
  const before = await countEntries(db)
  const id = '6f1c1a4e-0000-4000-8000-000000000000'
  const requests = [
    { method: 'POST', url: '/mood', payload: { score: 3 } },
    { method: 'GET', url: '/mood' },
    { method: 'GET', url: '/mood/stats' },
    { method: 'PATCH', url: `/mood/${id}`, payload: { score: 3 } },
    { method: 'DELETE', url: `/mood/${id}` }
  ] as const
  for (const request of requests) {
    const res = await app.inject(request)
    t.equal(res.statusCode, 401, `${request.method} ${request.url}`)
    t.same(res.json(), { statusCode: 401, error: 'Unauthorized', message: 'Log in first', code: 'MOOD_UNAUTHENTICATED' })
    t.ok(res.headers['x-request-id'], 'with a request id')
  }
  t.equal(await countEntries(db), before, 'nothing stored')
})

t.test('a forged or tampered assertion answers 401 and stores nothing', async (t) => {
  const victim = newUserId()
  const attacker = newUserId()
  const genuine = identity(attacker)[IDENTITY_HEADER]!
  const [version, body, mac] = genuine.split('.')
  const claims = JSON.parse(Buffer.from(body!, 'base64url').toString())
  const tampered = `${version}.${Buffer.from(JSON.stringify({ ...claims, sub: victim })).toString('base64url')}.${mac}`
  const otherKey = signIdentity({ userId: victim, role: 'user', timezone: 'UTC', requestId: 'r', audience: 'mood' }, 'someone-elses-secret-that-is-long-enough')
  const expired = signIdentity({ userId: victim, role: 'user', timezone: 'UTC', requestId: 'r', audience: 'mood' }, SECRET, 30, Date.now() - 10 * 60_000)
  for (const [name, header] of [['tampered claims', tampered], ['another key', otherKey], ['expired', expired], ['garbage', 'v1.x.y']] as const) {
    const post = await app.inject({ method: 'POST', url: '/mood', headers: { [IDENTITY_HEADER]: header }, payload: { score: 3 } })
    t.equal(post.statusCode, 401, `POST with ${name}`)
    const list = await app.inject({ url: '/mood', headers: { [IDENTITY_HEADER]: header } })
    t.equal(list.statusCode, 401, `GET with ${name}`)
  }
  t.equal(await countEntries(db, victim), 0)
})
