import type { TwitterHistory, TwitterOverview, TwitterPost } from '@pulse/contracts'
import t from 'tap'
import { as, buildApp, callsSince, connectX, eventually, failedOf, refreshedOf, drained, startWorld } from './helper.js'

const DAY = 24 * 3600 * 1000
const TIMELINE = 'GET /2/users/:id/tweets'

const world = await startWorld(t)
// Every post X lets us reach: the limit is the 3,200-post horizon.
const { app } = await buildApp(t, world, { TWITTER_MAX_POSTS: '3200', TWITTER_LIST_PAGE_SIZE_MAX: '1000' })
const { sim } = world

const numbersOf = (o: TwitterOverview) => ({ followers: o.followers, following: o.following, posts: o.posts, listed: o.listed, likes: o.likes })
const expectedNumbers = (login: string) => {
  const e = sim.control.expectedTwitter(login)
  return { followers: e.followers, following: e.following, posts: e.posts, listed: e.listed, likes: e.likes }
}

/** Every stored post of a user, following nextCursor. */
async function allPosts (userId: string, sort = 'recent'): Promise<TwitterPost[]> {
  const posts: TwitterPost[] = []
  let cursor: string | null = null
  do {
    const res = await app.inject({ method: 'GET', url: `/twitter/posts?sort=${sort}&limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, headers: as(userId) })
    if (res.statusCode !== 200) throw new Error(`posts answered ${res.statusCode}: ${res.body}`)
    const page: { items: TwitterPost[], nextCursor: string | null } = res.json()
    posts.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== null)
  return posts
}

t.test('a refresh of sim_big stores what X shows: the numbers, every recent post past the first page, the engagement rate', async (t) => {
  const before = sim.control.callCounts()
  const userId = await connectX(world, 'sim_big')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1), 'refreshed')
  const overview = (await app.inject({ method: 'GET', url: '/twitter/overview', headers: as(userId) })).json<TwitterOverview>()
  const expected = expectedNumbers('sim_big')
  t.same(numbersOf(overview), expected, 'the overview equals the simulator\'s numbers')
  t.ok(expected.posts > 100 && expected.posts < 3200, `hundreds of posts (${expected.posts})`)
  t.equal(overview.connection.login, 'sim_big')

  const posts = await allPosts(userId)
  t.equal(posts.length, expected.posts, 'every post, fetched over several pages')
  t.equal(new Set(posts.map((p) => p.id)).size, posts.length, 'none twice')
  t.equal(callsSince(sim, before)[TIMELINE], Math.ceil(expected.posts / 100), 'one timeline call per page of 100')
  const times = posts.map((p) => Date.parse(p.createdAt!))
  t.same(times, [...times].sort((a, b) => b - a), 'newest first')
  t.ok(posts.some((p) => p.isRepost) && posts.some((p) => !p.isRepost), 'reposts are told apart')

  const own = posts.filter((p) => !p.isRepost)
  const rate = own.reduce((sum, p) => sum + p.likes + p.reposts + p.replies + p.quotes, 0) / own.length / expected.followers
  t.ok(Math.abs(overview.engagementRate! - rate) < 1e-12, `engagement rate ${overview.engagementRate} = interactions per own post / followers`)
  t.equal(overview.postsSampled, own.length)
  t.ok(posts.every((p) => p.engagement === p.likes + p.reposts + p.replies + p.quotes), 'engagement = likes + reposts + replies + quotes')

  const byEngagement = await allPosts(userId, 'engagement')
  t.same(byEngagement.map((p) => p.engagement), [...byEngagement.map((p) => p.engagement)].sort((a, b) => b - a), 'sort=engagement: most first')
  t.equal(byEngagement.length, posts.length)

  t.ok(await drained(world), 'the service has nothing left to do')
  t.equal(refreshedOf(world, userId).length, 1, 'one refreshed event')
  t.equal(failedOf(world, userId).length, 0)
})

t.test('a timeline longer than 3,200 posts is read to the horizon and no further', async (t) => {
  const before = sim.control.callCounts()
  const userId = await connectX(world, 'sim_chatty')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1, 60_000))
  t.ok(sim.control.expectedTwitter('sim_chatty').posts > 3200, 'sim_chatty has more than X lets us read')
  const posts = await allPosts(userId)
  t.equal(posts.length, 3200, 'the newest 3,200')
  t.equal(callsSince(sim, before)[TIMELINE], 32, '32 pages of 100, none beyond')
  const overview = (await app.inject({ method: 'GET', url: '/twitter/overview', headers: as(userId) })).json<TwitterOverview>()
  t.equal(overview.posts, sim.control.expectedTwitter('sim_chatty').posts, 'the post count is X\'s, not the sample\'s')
})

t.test('an account with no posts and no followers works: empty timeline without a data key', async (t) => {
  const userId = await connectX(world, 'sim_new')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
  const overview = (await app.inject({ method: 'GET', url: '/twitter/overview', headers: as(userId) })).json<TwitterOverview>()
  t.same(numbersOf(overview), expectedNumbers('sim_new'))
  t.equal(overview.posts, 0)
  t.equal(overview.engagementRate, null, 'no rate without posts')
  t.equal(overview.postsSampled, 0)
  const posts = await app.inject({ method: 'GET', url: '/twitter/posts', headers: as(userId) })
  t.same(posts.json<{ items: unknown[], nextCursor: null }>().items, [])
  t.equal(failedOf(world, userId).length, 0)
})

t.test('two days later a refresh adds a history point and the overview shows the change', async (t) => {
  const userId = await connectX(world, 'sim_mid')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
  const before = expectedNumbers('sim_mid')
  const first = (await app.inject({ method: 'GET', url: '/twitter/overview', headers: as(userId) })).json<TwitterOverview>()
  sim.control.advanceClock(2 * DAY)
  t.equal((await app.inject({ method: 'POST', url: '/twitter/refresh', headers: as(userId) })).statusCode, 202)
  t.ok(await eventually(() => refreshedOf(world, userId).length === 2))
  const after = expectedNumbers('sim_mid')
  const overview = (await app.inject({ method: 'GET', url: '/twitter/overview', headers: as(userId) })).json<TwitterOverview>()
  t.same(numbersOf(overview), after)
  const change = overview.change['1d']!
  t.equal(change.since, first.capturedAt)
  t.equal(change.followers, after.followers - before.followers)
  t.equal(change.posts, after.posts - before.posts)
  t.equal(change.likes, after.likes - before.likes)
  t.ok(Math.abs(change.engagementRate! - (overview.engagementRate! - first.engagementRate!)) < 1e-9)
  const history = (await app.inject({ method: 'GET', url: '/twitter/history?metric=followers', headers: as(userId) })).json<TwitterHistory>()
  t.same(history.points.map((p) => p.value), [before.followers, after.followers])
})
