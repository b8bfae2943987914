import type { TwitterOverview } from '@pulse/contracts'
import t from 'tap'
import { as, buildApp, connectX, drained, eventually, refreshedOf, startWorld } from './helper.js'

// The account's numbers (/2/users/me) and its timeline are independent once the linked X id is
// known: one refresh asks for both at once, so it takes the round trips of the timeline's pages.
// The simulator answers each call 100 ms late and counts the most calls in flight at once and the
// "waves" (calls started while no other was in flight: the sequential round trips of a refresh alone).

const TIMELINE = 'GET /2/users/:id/tweets'
const world = await startWorld(t)
const { app } = await buildApp(t, world)
const { sim } = world

t.test('one refresh asks for the numbers with the timeline\'s first page: as many round trips as timeline pages', async (t) => {
  const userId = await connectX(world, 'sim_mid')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1), 'refreshed once on linking')
  t.ok(await drained(world))

  sim.control.setLatency(100)
  t.teardown(() => { sim.control.setLatency(0) })
  sim.control.resetCounts()
  t.equal((await app.inject({ method: 'POST', url: '/twitter/refresh', headers: as(userId) })).statusCode, 202)
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2), 'refreshed again, alone')

  const calls = sim.control.callCounts()
  const pages = calls[TIMELINE] ?? 0
  t.ok(pages >= 1, `${pages} timeline pages`)
  t.equal(calls['GET /2/users/me'], 1, 'one /2/users/me')
  t.equal(sim.control.waves(), pages, 'round trips: the timeline\'s pages alone')
  t.equal(sim.control.maxInFlight(), 2, 'the numbers and the first page at once')
  const overview = (await app.inject({ method: 'GET', url: '/twitter/overview', headers: as(userId) })).json<TwitterOverview>()
  t.equal(overview.followers, sim.control.expectedTwitter('sim_mid').followers)
})

t.test('a token of another X user than the one linked: its own timeline is read after /2/users/me', async (t) => {
  const userId = await connectX(world, 'sim_new')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1), 'refreshed once on linking')
  t.ok(await drained(world))
  await world.db.updateTable('tracked_accounts').set({ provider_user_id: 'not-the-token-user' }).where('user_id', '=', userId).execute()
  sim.control.resetCounts()
  t.equal((await app.inject({ method: 'POST', url: '/twitter/refresh', headers: as(userId) })).statusCode, 202)
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2), 'refreshed again')
  const overview = (await app.inject({ method: 'GET', url: '/twitter/overview', headers: as(userId) })).json<TwitterOverview>()
  t.equal(overview.followers, sim.control.expectedTwitter('sim_new').followers, 'the numbers of the token\'s user')
  t.equal(sim.control.callCounts()['GET /2/users/me'], 1, 'one /2/users/me')
})
