import t from 'tap'
import { build, countEntries, identity, logMood, newUserId, TestClock } from './helper.js'

const clock = new TestClock(Date.parse('2024-03-05T12:00:00Z'))
const { app, db } = await build(t, { clock })

function post (userId: string, key: string, payload: object) {
  return app.inject({ method: 'POST', url: '/mood', headers: { ...identity(userId), 'idempotency-key': key }, payload })
}

t.test('the same key and body answer the first result, status and body, and store one entry', async (t) => {
  const user = newUserId()
  const first = await post(user, 'key-1', { score: 4, label: 'rested', loggedAt: '2024-03-05T08:00:00Z' })
  t.equal(first.statusCode, 201)
  t.notOk(first.headers['idempotent-replayed'])

  // The streak has changed since: the replay still answers what the first request answered.
  await logMood(app, user, { score: 2, loggedAt: '2024-03-04T08:00:00Z' })
  clock.set('2024-03-05T18:00:00Z')
  const again = await post(user, 'key-1', { loggedAt: '2024-03-05T08:00:00Z', label: 'rested', score: 4 })
  t.equal(again.statusCode, 201)
  t.same(again.json(), first.json(), 'the same body, whatever the order of its fields')
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.equal(await countEntries(db, user), 2, 'one keyed entry and the one logged without a key')
})

t.test('the same key with a different body answers 409 and stores nothing', async (t) => {
  const user = newUserId()
  t.equal((await post(user, 'key-2', { score: 3 })).statusCode, 201)
  const conflict = await post(user, 'key-2', { score: 5 })
  t.equal(conflict.statusCode, 409)
  t.same(conflict.json(), {
    statusCode: 409, error: 'Conflict', message: 'This Idempotency-Key was already used with a different request body', code: 'MOOD_IDEMPOTENCY_CONFLICT'
  })
  t.equal(await countEntries(db, user), 1)
})

t.test('keys belong to one user: another user with the same key logs their own entry', async (t) => {
  const alice = newUserId()
  const bob = newUserId()
  const a = await post(alice, 'shared-key', { score: 3 })
  const b = await post(bob, 'shared-key', { score: 3 })
  t.equal(b.statusCode, 201)
  t.not(b.json().entry.id, a.json().entry.id)
  t.equal(await countEntries(db, bob), 1)
})

t.test('concurrent POSTs with the same key create exactly one entry', async (t) => {
  const user = newUserId()
  const answers = await Promise.all(Array.from({ length: 8 }, () => post(user, 'race', { score: 4, note: 'twice?' })))
  t.same(answers.map((a) => a.statusCode), Array(8).fill(201))
  const ids = new Set(answers.map((a) => a.json().entry.id))
  t.equal(ids.size, 1, 'every answer names the same entry')
  t.equal(await countEntries(db, user), 1)
})

t.test('concurrent POSTs with the same key and different bodies: one wins, the others get 409', async (t) => {
  const user = newUserId()
  const sent = Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? 1 : 5))
  const answers = await Promise.all(sent.map((score) => post(user, 'race-2', { score })))
  t.equal(await countEntries(db, user), 1)
  const winner = answers.find((a) => a.statusCode === 201 && a.headers['idempotent-replayed'] === undefined)
  t.ok(winner, 'one request logged the entry')
  const { entry } = winner!.json()
  answers.forEach((answer, i) => {
    if (sent[i] === entry.score) {
      t.equal(answer.statusCode, 201, 'the same body: the winner\'s answer')
      t.equal(answer.json().entry.id, entry.id)
    } else {
      t.equal(answer.statusCode, 409, 'another body: a conflict')
    }
  })
})

t.test('a refused request does not use up its key', async (t) => {
  const user = newUserId()
  const bad = await post(user, 'key-3', { score: 9 })
  t.equal(bad.statusCode, 400)
  const good = await post(user, 'key-3', { score: 3 })
  t.equal(good.statusCode, 201)
  t.equal(await countEntries(db, user), 1)
})

t.test('keys are 1 to 200 characters', async (t) => {
  const user = newUserId()
  const tooLong = await post(user, 'k'.repeat(201), { score: 3 })
  t.equal(tooLong.statusCode, 400)
  t.match(tooLong.json(), { code: 'MOOD_VALIDATION', message: /headers\/idempotency-key/ })
  const empty = await post(user, '', { score: 3 })
  t.equal(empty.statusCode, 400)
  t.match(empty.json().message, /headers\/idempotency-key/)
  t.equal(await countEntries(db, user), 0)
  t.equal((await post(user, 'k'.repeat(200), { score: 3 })).statusCode, 201)
})
