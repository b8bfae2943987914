import type { TwitchOverview } from '@pulse/contracts'
import t from 'tap'
import { as, buildApp, callsSince, connectTwitch, eventually, failedOf, refreshedOf, drained, startWorld } from './helper.js'

const HOUR = 3600 * 1000

const world = await startWorld(t)
// Rate-limit waits never happen in place here: every 429 goes through redelivery.
const { app } = await buildApp(t, world, { TWITCH_RATE_LIMIT_INLINE_WAIT_MS: '0', TWITCH_HTTP_MAX_ATTEMPTS: '3' })
const { sim } = world

const snapshotCount = async (userId: string) =>
  (await world.db.selectFrom('snapshots').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n

/** Connects sim_mid and waits for its first refresh; answers the user id and the calls one refresh costs. */
async function connectedMid () {
  const before = sim.control.callCounts()
  const userId = await connectTwitch(world, 'sim_mid')
  if (!await eventually(() => refreshedOf(world, userId).length === 1)) throw new Error('first refresh missing')
  return { userId, cleanCalls: callsSince(sim, before) }
}

/** A manual refresh a few minutes later (past the one-per-minute limit), on the simulator's clock. */
async function refreshAgain (userId: string) {
  sim.control.advanceClock(2 * 60 * 1000)
  const res = await app.inject({ method: 'POST', url: '/twitch/refresh', headers: as(userId) })
  if (res.statusCode !== 202) throw new Error(`refresh answered ${res.statusCode}`)
}

t.test('an access token that expired mid-way is renewed through auth and the refresh completes', async (t) => {
  const { userId } = await connectedMid()
  const oldToken = world.responder.currentToken(userId, 'twitch')
  const tokenCallsBefore = sim.control.callCounts()['POST /oauth2/token'] ?? 0

  sim.control.advanceClock(5 * HOUR) // Twitch user tokens live about four hours
  await refreshAgain(userId)
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2), 'the refresh completed')
  const renewal = world.responder.requests.filter((r) => r.userId === userId && r.rejectedAccessToken !== undefined)
  t.equal(renewal.length, 1, 'auth was asked once for a new token')
  t.equal(renewal[0]!.rejectedAccessToken, oldToken, 'naming the token Twitch refused')
  t.not(world.responder.currentToken(userId, 'twitch'), oldToken, 'a new token was issued')
  t.equal((sim.control.callCounts()['POST /oauth2/token'] ?? 0) - tokenCallsBefore, 1, 'one refresh at Twitch')
  const overview = (await app.inject({ method: 'GET', url: '/twitch/overview', headers: as(userId) })).json<TwitchOverview>()
  t.equal(overview.followers, sim.control.expectedTwitch('sim_mid').followers, 'the numbers are the current ones')
  t.equal(failedOf(world, userId).length, 0)
})

t.test('a 429 is waited out by redelivery: the refresh completes once, nothing is lost, its calls are made once more', async (t) => {
  const { userId, cleanCalls } = await connectedMid()
  const before = sim.control.callCounts()
  sim.control.failNext('GET /helix/users', 1, 429)
  await refreshAgain(userId)
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2), 'the refresh completed after the reset')
  t.ok(await drained(world), 'the service has nothing left to do')
  const calls = callsSince(sim, before)
  // Get Users runs at once with the lists (by the linked Twitch id): the refused delivery made its
  // other calls too, and the redelivery makes them again — twice a clean refresh, the refused call
  // included. The snapshot and the event still come once.
  const expected = Object.fromEntries(Object.entries(cleanCalls).map(([endpoint, n]) => [endpoint, 2 * n]))
  t.same(calls, expected, 'the calls of a clean refresh twice: the refused delivery\'s and the redelivery\'s')
  t.equal(await snapshotCount(userId), 2, 'one snapshot per refresh')
  t.equal(refreshedOf(world, userId).length, 2, 'one event per refresh')
  t.equal(failedOf(world, userId).length, 0, 'no failure reported')
})

t.test('a 429 in the middle of a paginated list: the refresh starts again after the reset and completes once', async (t) => {
  const { userId } = await connectedMid()
  sim.control.failNext('GET /helix/videos', 1, 429)
  await refreshAgain(userId)
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2))
  t.ok(await drained(world), 'the service has nothing left to do')
  t.equal(await snapshotCount(userId), 2)
  t.equal(failedOf(world, userId).length, 0)
})

t.test('Twitch answering 503 is retried a few times, then the message is redelivered and the refresh completes', async (t) => {
  const { userId, cleanCalls } = await connectedMid()
  const before = sim.control.callCounts()
  // Three tries per delivery: the first delivery fails on videos, the second gets through.
  sim.control.failNext('GET /helix/videos', 4, 503)
  await refreshAgain(userId)
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2), 'the refresh completed on redelivery')
  t.ok(await drained(world), 'the service has nothing left to do')
  const calls = callsSince(sim, before)
  t.equal(calls['GET /helix/videos'], cleanCalls['GET /helix/videos']! + 4, 'each failed video call was retried, the list fetched once in full')
  t.equal(calls['GET /helix/users'], 2, 'the refresh started again once')
  t.equal(await snapshotCount(userId), 2)
  t.equal(failedOf(world, userId).length, 0)
})

t.test('a grant revoked at Twitch fails the refresh as token_revoked, once, and the overview says so', async (t) => {
  const { userId } = await connectedMid()
  sim.control.revokeGrant('twitch', 'sim_mid')
  await refreshAgain(userId)
  t.ok(await eventually(() => failedOf(world, userId).length === 1), 'a failure is reported')
  t.equal(failedOf(world, userId)[0]!.reason, 'token_revoked')
  const before = sim.control.callCounts()
  t.ok(await drained(world), 'the service has nothing left to do')
  t.same(callsSince(sim, before), {}, 'no more calls: the request is not retried')
  t.equal(failedOf(world, userId).length, 1, 'reported once')
  const overview = (await app.inject({ method: 'GET', url: '/twitch/overview', headers: as(userId) })).json<TwitchOverview>()
  t.equal(overview.connection.status, 'invalidated')
  t.equal(overview.connection.lastFailure?.reason, 'token_revoked')
  t.equal(await snapshotCount(userId), 1, 'the earlier snapshot stays')
})

t.test('auth being unavailable postpones the refresh; it completes once auth answers again', async (t) => {
  const { userId } = await connectedMid()
  const asked = () => world.responder.requests.filter((r) => r.userId === userId).length
  const before = asked()
  world.responder.failNext(userId, 'twitch', 2, 'unavailable')
  await refreshAgain(userId)
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2), 'the refresh completed on a later delivery')
  t.equal(asked() - before, 3, 'asked twice in vain, then given a token')
  t.equal(failedOf(world, userId).length, 0, 'no failure reported')
})

t.test('auth saying the user has no connection fails the refresh as not_connected, without retrying', async (t) => {
  const { userId } = await connectedMid()
  world.responder.failNext(userId, 'twitch', 1, 'not_connected')
  await refreshAgain(userId)
  t.ok(await eventually(() => failedOf(world, userId).length === 1))
  t.equal(failedOf(world, userId)[0]!.reason, 'not_connected')
  t.ok(await drained(world), 'the service has nothing left to do')
  t.equal(failedOf(world, userId).length, 1)
  t.equal(refreshedOf(world, userId).length, 1)
})
