import type { TwitterOverview, TwitterPost } from '@pulse/contracts'
import t from 'tap'
import { as, buildApp, connectX, eventually, refreshedOf, startWorld } from './helper.js'

// X's OpenAPI 2.167 renames tweet_count, retweet_count and referenced_tweets to post_count,
// repost_count and referenced_posts (docs/providers.md §2.5): both spellings must give the same numbers.
const world = await startWorld(t, { xNaming: 'post' })
const { app } = await buildApp(t, world, { TWITTER_LIST_PAGE_SIZE_MAX: '1000', TWITTER_MAX_POSTS: '1000' })
const { sim } = world

t.test('with the post naming the overview and the posts carry the same numbers', async (t) => {
  const userId = await connectX(world, 'sim_big')
  t.ok(await eventually(() => refreshedOf(world, userId).length === 1))
  const overview = (await app.inject({ method: 'GET', url: '/twitter/overview', headers: as(userId) })).json<TwitterOverview>()
  const expected = sim.control.expectedTwitter('sim_big')
  t.same({ followers: overview.followers, following: overview.following, posts: overview.posts, listed: overview.listed, likes: overview.likes },
    { followers: expected.followers, following: expected.following, posts: expected.posts, listed: expected.listed, likes: expected.likes })
  const posts = (await app.inject({ method: 'GET', url: '/twitter/posts?limit=1000', headers: as(userId) })).json<{ items: TwitterPost[] }>().items
  t.equal(posts.length, expected.posts)
  t.ok(posts.some((p) => p.reposts > 0), 'repost_count is read')
  t.ok(posts.some((p) => p.isRepost), 'referenced_posts is read')
  t.ok(overview.engagementRate !== null && overview.engagementRate > 0)
})
