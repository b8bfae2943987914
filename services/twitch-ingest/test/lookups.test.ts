import { randomUUID } from 'node:crypto'
import type { TwitchLookupGame, TwitchLookupStreamList, TwitchLookupUser, TwitchStream } from '@pulse/contracts'
import { SIM_CREDENTIALS } from '@pulse/provider-sim'
import t from 'tap'
import { as, buildApp, callsSince, startWorld } from './helper.js'

const TTL_S = 300
const world = await startWorld(t)
const { sim } = world
const { app } = await buildApp(t, world, { TWITCH_LOOKUP_CACHE_S: String(TTL_S), TWITCH_HTTP_MAX_ATTEMPTS: '1' })
// Any logged-in user, Twitch connected or not.
const user = randomUUID()
const get = (url: string, userId: string | null = user, on = app) => on.inject({ method: 'GET', url, headers: userId === null ? {} : as(userId) })

/** Helix itself, with an app token: the oracle. */
async function helix<T> (path: string): Promise<T> {
  const token = await fetch(`${sim.twitchAuthUrl}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: SIM_CREDENTIALS.twitch.clientId, client_secret: SIM_CREDENTIALS.twitch.clientSecret, grant_type: 'client_credentials' }).toString()
  }).then(async (r) => (await r.json() as { access_token: string }).access_token)
  const res = await fetch(`${sim.twitchApiUrl}/${path}`, { headers: { Authorization: `Bearer ${token}`, 'Client-Id': SIM_CREDENTIALS.twitch.clientId } })
  return await res.json() as T
}

t.test('a user by login or by id, as Helix has them', async (t) => {
  const { data: [expected] } = await helix<{ data: Array<Record<string, string>> }>('users?login=sim_mid')
  const byLogin = await get('/twitch/lookup/users?login=SIM_MID')
  t.equal(byLogin.statusCode, 200, byLogin.body)
  const found = byLogin.json<TwitchLookupUser>()
  t.match(found, {
    id: expected!.id,
    login: 'sim_mid',
    displayName: expected!.display_name,
    profileImageUrl: expected!.profile_image_url,
    description: expected!.description,
    createdAt: new Date(expected!.created_at!).toISOString(),
    broadcasterType: expected!.broadcaster_type
  })
  const byId = (await get(`/twitch/lookup/users?id=${expected!.id}`)).json<TwitchLookupUser>()
  t.equal(byId.login, 'sim_mid')
})

t.test('answers are cached in Redis, for every replica, until TWITCH_LOOKUP_CACHE_S has passed', async (t) => {
  const before = sim.control.callCounts()
  t.equal((await get('/twitch/lookup/users?login=sim_big')).statusCode, 200)
  t.same(callsSince(sim, before), { 'GET /helix/users': 1 })
  const first = (await get('/twitch/lookup/users?login=sim_big')).json<TwitchLookupUser>()
  // Another replica (a second app on the same Redis) finds the answer too.
  const { app: replica } = await buildApp(t, world, { TWITCH_LOOKUP_CACHE_S: String(TTL_S) })
  const second = (await get('/twitch/lookup/users?login=sim_big', user, replica)).json<TwitchLookupUser>()
  t.equal(second.fetchedAt, first.fetchedAt)
  t.same(callsSince(sim, before), { 'GET /helix/users': 1 }, 'Twitch asked once')
  sim.control.advanceClock(TTL_S * 1000 + 1000)
  const later = (await get('/twitch/lookup/users?login=sim_big')).json<TwitchLookupUser>()
  t.ok(Date.parse(later.fetchedAt) > Date.parse(first.fetchedAt))
  t.same(callsSince(sim, before), { 'GET /helix/users': 2 }, 'asked again once stale')
})

t.test('when Twitch cannot be asked: a stale answer is served, else 503 with retry-after', async (t) => {
  t.equal((await get('/twitch/lookup/games/509658')).statusCode, 200)
  sim.control.advanceClock(TTL_S * 1000 + 1000)
  sim.control.failNext('GET /helix/games', 1, 503)
  const stale = await get('/twitch/lookup/games/509658')
  t.equal(stale.statusCode, 200, 'the stale copy')
  t.equal(stale.json<TwitchLookupGame>().name, 'Just Chatting')
  sim.control.failNext('GET /helix/games', 1, 503)
  const none = await get('/twitch/lookup/games/21779')
  t.equal(none.statusCode, 503)
  t.equal(none.json<{ code: string }>().code, 'TWITCH_PROVIDER_UNAVAILABLE')
  t.match(none.headers['retry-after'], /^\d+$/)
})

t.test('rate-limit aware: a spent app budget is a 503 with retry-after, and Twitch is not asked again before the reset', async (t) => {
  const { app: strict } = await buildApp(t, world, { TWITCH_RATE_LIMIT_INLINE_WAIT_MS: '0', TWITCH_HTTP_MAX_ATTEMPTS: '1' })
  const before = sim.control.callCounts()
  sim.control.failNext('GET /helix/users', 1, 429)
  const limited = await get('/twitch/lookup/users?login=sim_new', user, strict)
  t.equal(limited.statusCode, 503)
  t.equal(limited.json<{ code: string }>().code, 'TWITCH_PROVIDER_UNAVAILABLE')
  t.ok(Number(limited.headers['retry-after']) >= 1, `retry-after ${String(limited.headers['retry-after'])}`)
  t.equal((await get('/twitch/lookup/users?login=sim_new', user, strict)).statusCode, 503, 'still limited')
  t.same(callsSince(sim, before), { 'GET /helix/users': 1 }, 'the budget was respected: Twitch asked once')
  sim.control.advanceClock(2000)
  t.equal((await get('/twitch/lookup/users?login=sim_new', user, strict)).statusCode, 200, 'answered after the reset')
})

t.test('404 when Twitch has none, and that answer is cached too', async (t) => {
  const before = sim.control.callCounts()
  for (let i = 0; i < 2; i++) {
    const res = await get('/twitch/lookup/users?login=nobody_here_at_all')
    t.equal(res.statusCode, 404)
    t.equal(res.json<{ code: string }>().code, 'TWITCH_LOOKUP_NOT_FOUND')
  }
  t.same(callsSince(sim, before), { 'GET /helix/users': 1 })
  const game = await get('/twitch/lookup/games/1')
  t.equal(game.statusCode, 404)
  t.match(game.json<{ message: string }>().message, /category/)
})

t.test('a category by id, and its live streams page by page as Helix gives them', async (t) => {
  const game = (await get('/twitch/lookup/games/21779')).json<TwitchLookupGame>()
  t.match(game, { id: '21779', name: 'League of Legends', igdbId: '115', boxArtUrl: /\{width\}x\{height\}/ })

  const all = await helix<{ data: Array<{ game_id: string }> }>('streams?first=100')
  const gameId = all.data[0]!.game_id
  const expected = (await helix<{ data: Array<{ id: string }> }>(`streams?game_id=${gameId}&first=100`)).data.map((s) => s.id)
  const seen: TwitchStream[] = []
  let cursor: string | null = null
  do {
    const res = await get(`/twitch/lookup/games/${gameId}/streams?limit=1${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
    t.equal(res.statusCode, 200, res.body)
    const page = res.json<TwitchLookupStreamList>()
    seen.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== null && seen.length < 200)
  t.same(seen.map((s) => s.streamId), expected)
  t.ok(seen.every((s) => s.gameId === gameId))
  const empty = (await get('/twitch/lookup/games/1/streams')).json<TwitchLookupStreamList>()
  t.same(empty.items, [])
  t.equal(empty.nextCursor, null)
})

t.test('bad input is a 400 naming the field; no login is a 401', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['/twitch/lookup/users', /login or querystring\/id/],
    ['/twitch/lookup/users?login=a&id=1', /together/],
    ['/twitch/lookup/users?login=bad%20name', /login/],
    ['/twitch/lookup/users?id=abc', /id/],
    ['/twitch/lookup/games/abc', /id/],
    ['/twitch/lookup/games/1/streams?limit=101', /limit/],
    ['/twitch/lookup/games/1/streams?limit=0', /limit/],
    ['/twitch/lookup/games/21779/streams?cursor=not-a-twitch-cursor', /cursor/]
  ]
  for (const [url, message] of cases) {
    const res = await get(url)
    t.equal(res.statusCode, 400, url)
    t.match(res.json<{ message: string }>().message, message, url)
  }
  for (const url of ['/twitch/lookup/users?login=sim_big', '/twitch/lookup/games/1', '/twitch/lookup/games/1/streams']) {
    t.equal((await get(url, null)).statusCode, 401, url)
  }
})

t.test('/openapi.json documents the new routes with their schemas', async (t) => {
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> }>> }>()
  const ok = (path: string) => doc.paths[path]?.get?.responses['200']?.content?.['application/json']?.schema.properties ?? {}
  t.ok('profileImageUrl' in ok('/twitch/lookup/users'), '/twitch/lookup/users')
  t.ok('boxArtUrl' in ok('/twitch/lookup/games/{id}'), '/twitch/lookup/games/{id}')
  t.ok('nextCursor' in ok('/twitch/lookup/games/{id}/streams'), '/twitch/lookup/games/{id}/streams')
  t.ok('followedAt' in ((ok('/twitch/followers').items as { items?: { properties?: object } } | undefined)?.items?.properties ?? {}), '/twitch/followers')
  t.ok('weeks' in ok('/twitch/streams/hours'), '/twitch/streams/hours')
  t.ok('profile' in ok('/twitch/overview'), '/twitch/overview has the profile')
  t.ok(doc.paths['/twitch/lookup/users']?.get?.responses['404'], 'the 404 is documented')
})
