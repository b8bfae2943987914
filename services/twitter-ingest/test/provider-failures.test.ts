import type { TwitterOverview } from '@pulse/contracts'
import t from 'tap'
import { as, buildApp, callsSince, connectX, eventually, failedOf, refreshedOf, drained, startWorld } from './helper.js'

const world = await startWorld(t)
// Rate-limit waits never happen in place here: every 429 goes through redelivery.
const { app } = await buildApp(t, world, { TWITTER_RATE_LIMIT_INLINE_WAIT_MS: '0', TWITTER_MAX_POSTS: '300' })
const { sim } = world

const snapshotCount = async (userId: string) =>
  (await world.db.selectFrom('snapshots').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n

async function refreshAgain (userId: string) {
  sim.control.advanceClock(2 * 60 * 1000)
  const res = await app.inject({ method: 'POST', url: '/twitter/refresh', headers: as(userId) })
  if (res.statusCode !== 202) throw new Error(`refresh answered ${res.statusCode}`)
}

t.test('a 429 with x-rate-limit-reset is waited out by redelivery: the refresh completes once, with two extra calls', async (t) => {
  const userId = await connectX(world, 'sim_big')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
  let before = sim.control.callCounts()
  await refreshAgain(userId)
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2))
  const clean = callsSince(sim, before)

  before = sim.control.callCounts()
  sim.control.failNext('GET /2/users/me', 1, 429)
  await refreshAgain(userId)
  t.ok(await eventually(() => refreshedOf(world, userId).length === 3), 'completed after the reset')
  t.ok(await drained(world), 'the service has nothing left to do')
  // The timeline's first page runs at once with /2/users/me; its further pages wait for that answer.
  t.same(callsSince(sim, before), { 'GET /2/users/me': clean['GET /2/users/me']! + 1, 'GET /2/users/:id/tweets': clean['GET /2/users/:id/tweets']! + 1 },
    'no retry storm: the refused call once more, and the timeline page made with it')
  t.equal(await snapshotCount(userId), 3)
  t.equal(failedOf(world, userId).length, 0)
})

const passingFailures = [
  { name: 'a 429 on a later timeline page: the refresh starts again after the reset and completes once', login: 'sim_mid', endpoint: 'GET /2/users/:id/tweets', times: 1, status: 429 as const },
  { name: 'X answering 503 is retried, then redelivered, and the refresh completes', login: 'sim_new', endpoint: 'GET /2/users/me', times: 4, status: 503 as const }
]
for (const { name, login, endpoint, times, status } of passingFailures) {
  t.test(name, async (t) => {
    const userId = await connectX(world, login)
    t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
    sim.control.failNext(endpoint, times, status)
    await refreshAgain(userId)
    t.ok(await eventually(() => refreshedOf(world, userId).length === 2))
    t.ok(await drained(world), 'the service has nothing left to do')
    t.equal(await snapshotCount(userId), 2, 'one snapshot per refresh')
    t.equal(failedOf(world, userId).length, 0)
  })
}

t.test('a token X refuses is reported as token_revoked after asking auth once, and not retried', async (t) => {
  const userId = await connectX(world, 'sim_chatty')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1, 60_000))
  const token = world.responder.currentToken(userId, 'twitter')
  sim.control.revokeGrant('twitter', 'sim_chatty')
  const before = sim.control.callCounts()
  await refreshAgain(userId)
  t.ok(await eventually(() => failedOf(world, userId).length === 1), 'a failure is reported')
  t.equal(failedOf(world, userId)[0]!.reason, 'token_revoked')
  const asked = world.responder.requests.filter((r) => r.userId === userId && r.rejectedAccessToken !== undefined)
  t.equal(asked.length, 1, 'auth was told once which token X rejected')
  t.equal(asked[0]!.rejectedAccessToken, token)
  t.ok(await drained(world), 'the service has nothing left to do')
  t.same(callsSince(sim, before), { 'GET /2/users/me': 1, 'GET /2/users/:id/tweets': 1 }, 'the two calls made at once, both refused, no retries')
  t.equal(failedOf(world, userId).length, 1, 'reported once')
  const overview = (await app.inject({ method: 'GET', url: '/twitter/overview', headers: as(userId) })).json<TwitterOverview>()
  t.equal(overview.connection.status, 'invalidated')
  t.equal(overview.connection.lastFailure?.reason, 'token_revoked')
})
