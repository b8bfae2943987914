import t from 'tap'
import { WORLD_ANCHOR_HOUR } from '../src/state.js'
import { World } from '../src/world.js'
import { followerTotal, subscriptionSummary, videosOf } from '../src/twitch-data.js'
import { xMetrics } from '../src/x-data.js'
import { startSim } from './helpers.js'

const HOUR = 3_600_000
const ANCHOR = WORLD_ANCHOR_HOUR

t.test('the same seed gives the same world; another seed another one', async (t) => {
  const snapshot = (world: World) => world.personas.map((p) => ({
    login: p.login, twitch: p.twitch.id, x: p.x.id, followers: followerTotal(world, p, ANCHOR + 5), posts: xMetrics(world, p, ANCHOR + 5).tweet_count
  }))
  t.same(snapshot(new World(7, ANCHOR)), snapshot(new World(7, ANCHOR)))
  const a = snapshot(new World(7, ANCHOR))
  const b = snapshot(new World(8, ANCHOR))
  t.notSame(a.map((p) => p.twitch), b.map((p) => p.twitch))
  t.notSame(a.map((p) => p.followers), b.map((p) => p.followers))
})

t.test('the named accounts have the sizes docs/api.md promises, whatever the seed, from mid-2025 to the end of 2027', async (t) => {
  const hours = [Date.UTC(2025, 5, 1), Date.UTC(2026, 0, 1), Date.UTC(2026, 10, 20), Date.UTC(2027, 11, 31)].map((ms) => Math.floor(ms / HOUR))
  for (const seed of [1, 42, 1234, 99_999]) {
    const world = new World(seed, ANCHOR)
    const at = (login: string) => world.requirePersona(login)
    const big = at('sim_big')
    for (const hour of hours) {
      const when = `seed ${seed}, ${new Date(hour * HOUR).toISOString().slice(0, 10)}`
      const followers = followerTotal(world, big, hour)
      t.ok(followers >= 10_000 && followers < 100_000, `${when}: sim_big has tens of thousands of followers (${followers})`)
      const subs = subscriptionSummary(world, big, hour).total
      t.ok(subs >= 100 && subs < 1000, `${when}: sim_big has hundreds of subscribers (${subs})`)
      const posts = xMetrics(world, big, hour).tweet_count
      t.ok(posts >= 100 && posts < 1000, `${when}: sim_big has hundreds of posts (${posts})`)
      t.ok(xMetrics(world, big, hour).followers_count >= 10_000, `${when}: sim_big is big on X too`)
      const mid = followerTotal(world, at('sim_mid'), hour)
      t.ok(mid >= 100 && mid < 1000, `${when}: sim_mid has a few hundred followers (${mid})`)
      t.ok(xMetrics(world, at('sim_chatty'), hour).tweet_count > 3200, `${when}: sim_chatty is past X's timeline horizon`)
    }
    const none = at('sim_new')
    t.equal(followerTotal(world, none, ANCHOR + 20_000), 0)
    t.equal(videosOf(world, none, ANCHOR + 20_000).length, 0)
    t.same(xMetrics(world, none, ANCHOR + 20_000), { followers_count: 0, following_count: 0, tweet_count: 0, listed_count: 0, like_count: 0 })
    t.ok(world.personas.length >= 10, 'several generated users besides the named ones')
    t.ok(world.personas.filter((p) => followerTotal(world, p, ANCHOR) > 1000 && subscriptionSummary(world, p, ANCHOR).total >= 100).length >= 3, 'a few with thousands of followers and hundreds of subscribers')
  }
})

t.test('every login exists on both providers with different, unique ids', async (t) => {
  const world = new World(42, ANCHOR)
  const twitchIds = new Set(world.personas.map((p) => p.twitch.id))
  const xIds = new Set(world.personas.map((p) => p.x.id))
  t.equal(twitchIds.size, world.personas.length)
  t.equal(xIds.size, world.personas.length)
  t.equal(new Set(world.personas.map((p) => p.login)).size, world.personas.length)
  for (const p of world.personas) t.not(p.twitch.id, p.x.id, p.login)
})

t.test('history is not flat: followers grow hour by hour over a month, never shrinking', async (t) => {
  const world = new World(42, ANCHOR)
  const big = world.requirePersona('sim_big')
  const series = Array.from({ length: 24 * 30 }, (_, h) => followerTotal(world, big, ANCHOR - 24 * 30 + h))
  t.ok(series.every((v, i) => i === 0 || v >= series[i - 1]!), 'monotone')
  t.ok(new Set(series).size > 300, 'changes most hours')
  t.ok(series[series.length - 1]! > series[0]!, 'grows over the month')
  const perHour = series.slice(1).map((v, i) => v - series[i]!)
  t.ok(new Set(perHour).size >= 2, 'growth varies with the time of day')
  const subs = Array.from({ length: 24 * 30 }, (_, h) => subscriptionSummary(world, big, ANCHOR - 24 * 30 + h).total)
  t.ok(subs.some((v, i) => i > 0 && v < subs[i - 1]!), 'subscriptions also end, not only start')
})

t.test('simulators with the same seed show the same numbers at the same simulated time, whenever they started', async (t) => {
  const a = await startSim(t, { seed: 5, startTime: Date.UTC(2026, 2, 10, 12, 1) })
  const b = await startSim(t, { seed: 5, startTime: Date.UTC(2026, 1, 1, 8, 0) })
  b.control.setClock(a.control.now())
  t.same(a.control.expectedTwitch('sim_big'), b.control.expectedTwitch('sim_big'))
  t.same(a.control.expectedTwitter('sim_big'), b.control.expectedTwitter('sim_big'))
  const c = await startSim(t, { seed: 6, startTime: Date.UTC(2026, 2, 10, 12, 1) })
  t.not(c.control.expectedTwitch('sim_big').followers, a.control.expectedTwitch('sim_big').followers, 'another seed, other numbers')
})
