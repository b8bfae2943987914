import { randomUUID } from 'node:crypto'
import type { TwitterOverview, TwitterPostList } from '@pulse/contracts'
import t from 'tap'
import { as, buildApp, connectX, eventually, refreshedOf, startWorld } from './helper.js'

const world = await startWorld(t)
const { app } = await buildApp(t, world, { TWITTER_LIST_PAGE_SIZE_MAX: '50', TWITTER_MAX_POSTS: '100' })
const { sim } = world

const big = await connectX(world, 'sim_big')
const mid = await connectX(world, 'sim_mid')
if (!await eventually(() => refreshedOf(world, big).length === 1 && refreshedOf(world, mid).length === 1)) throw new Error('setup: refreshes missing')

const get = (url: string, userId?: string) => app.inject({ method: 'GET', url, headers: userId === undefined ? {} : as(userId) })

t.test('a user without an X connection gets 409 TWITTER_NOT_CONNECTED everywhere; without identity 401', async (t) => {
  const stranger = randomUUID()
  for (const url of ['/twitter/overview', '/twitter/history?metric=followers', '/twitter/posts']) {
    const res = await get(url, stranger)
    t.equal(res.statusCode, 409, url)
    t.equal(res.json<{ code: string }>().code, 'TWITTER_NOT_CONNECTED', url)
    t.equal((await get(url)).statusCode, 401, url)
  }
  const refresh = await app.inject({ method: 'POST', url: '/twitter/refresh', headers: as(stranger) })
  t.equal(refresh.statusCode, 409)
})

t.test('each user sees only their own account and posts', async (t) => {
  const bigOverview = (await get('/twitter/overview', big)).json<TwitterOverview>()
  const midOverview = (await get('/twitter/overview', mid)).json<TwitterOverview>()
  t.equal(bigOverview.followers, sim.control.expectedTwitter('sim_big').followers)
  t.equal(midOverview.followers, sim.control.expectedTwitter('sim_mid').followers)
  const bigPosts = (await get('/twitter/posts?limit=50', big)).json<TwitterPostList>().items
  const midPosts = (await get('/twitter/posts?limit=50', mid)).json<TwitterPostList>().items
  t.ok(bigPosts.length > 0 && midPosts.length > 0)
  t.notOk(midPosts.some((p) => bigPosts.some((b) => b.id === p.id)))
})

t.test('posts page with a cursor in either order', async (t) => {
  for (const sort of ['recent', 'engagement']) {
    const first = (await get(`/twitter/posts?sort=${sort}&limit=30`, big)).json<TwitterPostList>()
    t.equal(first.items.length, 30)
    t.type(first.nextCursor, 'string')
    const second = (await get(`/twitter/posts?sort=${sort}&limit=30&cursor=${encodeURIComponent(first.nextCursor!)}`, big)).json<TwitterPostList>()
    t.equal(second.items.length, 30)
    t.notOk(second.items.some((p) => first.items.some((f) => f.id === p.id)), `${sort}: pages do not overlap`)
    if (sort === 'engagement') t.ok(first.items.at(-1)!.engagement >= second.items[0]!.engagement, 'ordered across pages')
  }
})

t.test('bad input is a 400 naming the field', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['/twitter/history?metric=subscribers', /querystring\/metric/],
    ['/twitter/history?metric=followers&from=2026-06-10T00:00:00Z&to=2026-06-01T00:00:00Z', /from/],
    ['/twitter/posts?sort=oldest', /querystring\/sort/],
    ['/twitter/posts?limit=51', /querystring\/limit must be <= 50/],
    ['/twitter/posts?cursor=xyz', /querystring\/cursor/]
  ]
  for (const [url, message] of cases) {
    const res = await get(url, big)
    t.equal(res.statusCode, 400, url)
    t.equal(res.json<{ code: string }>().code, 'TWITTER_VALIDATION', url)
    t.match(res.json<{ message: string }>().message, message, url)
  }
})

t.test('/openapi.json describes every route', async (t) => {
  const paths = Object.keys((await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>().paths)
  for (const path of ['/twitter/overview', '/twitter/history', '/twitter/posts', '/twitter/refresh']) t.ok(paths.includes(path), path)
})
