import { randomUUID } from 'node:crypto'
import type {
  TwitchBitsLeaderboard, TwitchLiveFollowList, TwitchOverview, TwitchSubscriber, TwitchSubscriberList, TwitchTopGameList,
  TwitchTopStreamList, TwitchVideo, TwitchVideoList
} from '@pulse/contracts'
import t from 'tap'
import { as, buildApp, callsSince, connectTwitch, eventually, refreshedOf, startWorld } from './helper.js'

const world = await startWorld(t)
const { app } = await buildApp(t, world, { TWITCH_LIST_PAGE_SIZE_MAX: '50' })
const { sim } = world

const big = await connectTwitch(world, 'sim_big')
const mid = await connectTwitch(world, 'sim_mid')
if (!await eventually(() => refreshedOf(world, big).length === 1 && refreshedOf(world, mid).length === 1)) throw new Error('setup: refreshes missing')

const get = (url: string, userId?: string) => app.inject({ method: 'GET', url, headers: userId === undefined ? {} : as(userId) })

/** Every page of a list, following nextCursor. */
async function walk<T> (path: string, userId: string, limit: number): Promise<{ items: T[], pages: number }> {
  const items: T[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res = await get(`${path}?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, userId)
    if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}: ${res.body}`)
    const page = res.json<{ items: T[], nextCursor: string | null }>()
    items.push(...page.items)
    cursor = page.nextCursor
    pages++
  } while (cursor !== null)
  return { items, pages }
}

t.test('a user without a Twitch connection gets 409 TWITCH_NOT_CONNECTED everywhere', async (t) => {
  const stranger = randomUUID()
  for (const url of ['/twitch/overview', '/twitch/history?metric=followers', '/twitch/videos', '/twitch/subscribers', '/twitch/bits-leaderboard', '/twitch/live-follows']) {
    const res = await get(url, stranger)
    t.equal(res.statusCode, 409, url)
    t.equal(res.json<{ code: string }>().code, 'TWITCH_NOT_CONNECTED', url)
  }
  const refresh = await app.inject({ method: 'POST', url: '/twitch/refresh', headers: as(stranger) })
  t.equal(refresh.statusCode, 409)
  t.equal(refresh.json<{ code: string }>().code, 'TWITCH_NOT_CONNECTED')
})

t.test('without the gateway\'s identity every own-account route answers 401', async (t) => {
  for (const url of ['/twitch/overview', '/twitch/history?metric=followers', '/twitch/videos']) {
    t.equal((await get(url)).statusCode, 401, url)
  }
  t.equal((await app.inject({ method: 'POST', url: '/twitch/refresh' })).statusCode, 401)
})

t.test('each user sees only their own account', async (t) => {
  const bigOverview = (await get('/twitch/overview', big)).json<TwitchOverview>()
  const midOverview = (await get('/twitch/overview', mid)).json<TwitchOverview>()
  t.equal(bigOverview.connection.login, 'sim_big')
  t.equal(midOverview.connection.login, 'sim_mid')
  t.equal(bigOverview.followers, sim.control.expectedTwitch('sim_big').followers)
  t.not(midOverview.followers, bigOverview.followers)
  const bigVideos = (await get('/twitch/videos?limit=5', big)).json<TwitchVideoList>()
  const midVideos = (await get('/twitch/videos?limit=5', mid)).json<TwitchVideoList>()
  t.ok(bigVideos.items.length > 0)
  t.notOk(midVideos.items.some((v) => bigVideos.items.some((b) => b.id === v.id)), 'no video of one is in the other\'s list')
})

t.test('the lists page through everything the latest refresh fetched', async (t) => {
  const expected = sim.control.expectedTwitch('sim_big')
  const subs = await walk<TwitchSubscriber>('/twitch/subscribers', big, 50)
  t.equal(subs.items.length, expected.subscribers.total, 'every subscriber')
  t.ok(subs.pages > 2, `several pages (${subs.pages})`)
  t.equal(new Set(subs.items.map((s) => s.userId)).size, subs.items.length, 'none twice')
  const tiers = { 1000: 0, 2000: 0, 3000: 0 }
  for (const s of subs.items) tiers[s.tier]++
  t.same(tiers, expected.subscribers.tiers, 'tiers add up to the overview\'s')

  const videos = await walk<TwitchVideo>('/twitch/videos', big, 50)
  t.equal(videos.items.length, expected.videos.count, 'every video')
  t.equal(videos.items.reduce((sum, v) => sum + v.viewCount, 0), expected.videos.views)
  const times = videos.items.map((v) => Date.parse(v.createdAt))
  t.same(times, [...times].sort((a, b) => b - a), 'newest first')

  const bits = (await get('/twitch/bits-leaderboard', big)).json<TwitchBitsLeaderboard>()
  t.ok(bits.items.length > 0 && bits.items.length <= 10)
  t.same(bits.items.map((b) => b.rank), bits.items.map((_, i) => i + 1), 'ranked')
  t.equal(bits.capturedAt, refreshedOf(world, big)[0]!.capturedAt, 'from the latest refresh')

  const live = (await get('/twitch/live-follows', big)).json<TwitchLiveFollowList>()
  t.ok(Array.isArray(live.items))
  t.equal(live.nextCursor, null)

  const sub = (await get('/twitch/subscribers?limit=1', big)).json<TwitchSubscriberList>()
  t.equal(sub.items.length, 1)
  t.type(sub.nextCursor, 'string')
})

t.test('bad input is a 400 naming the field', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['/twitch/history?metric=likes', /querystring\/metric/],
    ['/twitch/history', /querystring\/metric/],
    ['/twitch/history?metric=followers&from=2026-06-10T00:00:00Z&to=2026-06-01T00:00:00Z', /from/],
    ['/twitch/history?metric=followers&from=2020-01-01T00:00:00Z&to=2026-06-01T00:00:00Z', /at most 400 days/],
    ['/twitch/history?metric=followers&from=yesterday', /querystring\/from/],
    ['/twitch/videos?limit=51', /querystring\/limit must be <= 50/],
    ['/twitch/videos?limit=0', /querystring\/limit/],
    ['/twitch/videos?cursor=nonsense', /querystring\/cursor/]
  ]
  for (const [url, message] of cases) {
    const res = await get(url, big)
    t.equal(res.statusCode, 400, url)
    t.equal(res.json<{ code: string }>().code, 'TWITCH_VALIDATION', url)
    t.match(res.json<{ message: string }>().message, message, url)
  }
})

t.test('the top streams and games are public and cached', async (t) => {
  const before = sim.control.callCounts()
  const streams = await app.inject({ method: 'GET', url: '/twitch/top-streams?limit=5' })
  t.equal(streams.statusCode, 200)
  const page = streams.json<TwitchTopStreamList>()
  t.ok(page.items.length > 0 && page.items.length <= 5)
  const viewers = page.items.map((s) => s.viewerCount)
  t.ok(page.items.every((s) => s.streamId !== '' && s.login !== ''))
  t.ok(viewers.length > 0)
  const games = await app.inject({ method: 'GET', url: '/twitch/top-games' })
  t.equal(games.statusCode, 200)
  t.ok(games.json<TwitchTopGameList>().items.length > 0)
  for (let i = 0; i < 3; i++) {
    t.equal((await app.inject({ method: 'GET', url: '/twitch/top-streams' })).statusCode, 200)
    t.equal((await app.inject({ method: 'GET', url: '/twitch/top-games' })).statusCode, 200)
  }
  const calls = callsSince(sim, before)
  t.same(calls, { 'GET /helix/games/top': 1, 'GET /helix/streams': 1 }, 'Twitch was asked once per list')
  t.equal((sim.control.callCounts()['POST /oauth2/token'] ?? 0) - (before['POST /oauth2/token'] ?? 0), 1, 'one app access token')
})

t.test('/openapi.json describes every route', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(res.statusCode, 200)
  const paths = Object.keys(res.json<{ paths: Record<string, unknown> }>().paths)
  for (const path of ['/twitch/overview', '/twitch/history', '/twitch/videos', '/twitch/subscribers', '/twitch/bits-leaderboard',
    '/twitch/live-follows', '/twitch/refresh', '/twitch/top-streams', '/twitch/top-games']) {
    t.ok(paths.includes(path), path)
  }
})
