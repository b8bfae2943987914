import t from 'tap'
import { appToken, helix, json, startSim, twitchLogin } from './helpers.js'

t.test('Helix', async (t) => {
  const sim = await startSim(t)
  const big = sim.control.expectedTwitch('sim_big')
  const mid = sim.control.expectedTwitch('sim_mid')
  const bigToken = (await twitchLogin(sim, 'sim_big', ['moderator:read:followers', 'channel:read:subscriptions', 'user:read:follows', 'user:read:email', 'bits:read'])).access_token
  const midPlain = (await twitchLogin(sim, 'sim_mid')).access_token

  t.test('needs a Bearer token and a Client-Id that matches the token\'s client', async (t) => {
    let res = await helix(sim, '/users', bigToken, 'someotherclientid0000000000000')
    t.equal(res.status, 401)
    t.same(await json(res), { error: 'Unauthorized', status: 401, message: 'Client ID and OAuth token do not match' })
    res = await fetch(`${sim.twitchApiUrl}/users`, { headers: { Authorization: `Bearer ${bigToken}` } })
    t.equal(res.status, 401, 'no Client-Id')
    t.match(await json(res), { error: 'Unauthorized', status: 401 })
    res = await fetch(`${sim.twitchApiUrl}/users`, { headers: { 'Client-Id': 'pulsesimtwitchclientid00000000' } })
    t.equal(res.status, 401, 'no token')
    res = await fetch(`${sim.twitchApiUrl}/users`, { headers: { Authorization: `OAuth ${bigToken}`, 'Client-Id': 'pulsesimtwitchclientid00000000' } })
    t.equal(res.status, 401, 'the OAuth scheme belongs to id.twitch.tv, not Helix')
    res = await helix(sim, '/users', 'notatoken')
    t.same(await json(res), { error: 'Unauthorized', status: 401, message: 'Invalid OAuth token' })
  })

  t.test('every answer carries Ratelimit-Limit, -Remaining and -Reset, errors included', async (t) => {
    for (const res of [await helix(sim, '/users', bigToken), await helix(sim, '/users', 'bad'), await helix(sim, '/users/follows', bigToken)]) {
      t.equal(res.headers.get('ratelimit-limit'), '800')
      t.match(res.headers.get('ratelimit-remaining'), /^\d+$/)
      t.ok(Number(res.headers.get('ratelimit-reset')) * 1000 > sim.control.now(), 'reset is in the future')
    }
  })

  t.test('Get Users: the token\'s user without parameters, repeated login/id parameters, email only with the scope', async (t) => {
    let body = await json(await helix(sim, '/users', bigToken))
    t.equal(body.data.length, 1)
    t.match(body.data[0], { id: big.userId, login: 'sim_big', display_name: big.displayName, type: '', broadcaster_type: 'partner', email: 'sim_big@example.com', created_at: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/ })
    body = await json(await helix(sim, `/users?login=sim_big&login=sim_mid&id=${mid.userId}`, midPlain))
    t.same(body.data.map((u: { login: string }) => u.login).sort(), ['sim_big', 'sim_mid'])
    t.notOk(body.data.some((u: Record<string, unknown>) => 'email' in u), 'no email without user:read:email')
    const app = await appToken(sim)
    const res = await helix(sim, '/users', app)
    t.equal(res.status, 400, 'an app token names nobody')
    t.equal((await json(await helix(sim, '/users?login=sim_new', app))).data[0].login, 'sim_new')
  })

  t.test('the followers trap: without the scope, or for someone else\'s channel, only total', async (t) => {
    const path = `/channels/followers?broadcaster_id=${big.userId}`
    let res = await helix(sim, path, midPlain)
    t.equal(res.status, 200, 'no error: it looks like success')
    t.same(await json(res), { total: big.followers, data: [], pagination: {} })

    const outsider = (await twitchLogin(sim, 'sim_chatty', ['moderator:read:followers'])).access_token
    t.same(await json(await helix(sim, path, outsider)), { total: big.followers, data: [], pagination: {} }, 'scope but neither broadcaster nor moderator')
    t.same(await json(await helix(sim, path, await appToken(sim))), { total: big.followers, data: [], pagination: {} }, 'app token')

    res = await helix(sim, `${path}&user_id=900000001`, midPlain)
    t.equal(res.status, 401, 'asking about one user_id without the right is an error')
    t.match(await json(res), { error: 'Unauthorized', status: 401, message: 'Missing scope: moderator:read:followers' })
  })

  t.test('the broadcaster and its moderators get the list', async (t) => {
    const own = await json(await helix(sim, `/channels/followers?broadcaster_id=${big.userId}`, bigToken))
    t.equal(own.total, big.followers)
    t.equal(own.data.length, 20, 'default page size')
    t.match(own.data[0], { user_id: String, user_login: String, user_name: String, followed_at: /Z$/ })
    t.match(own.pagination, { cursor: String })
    const times = own.data.map((f: { followed_at: string }) => Date.parse(f.followed_at))
    t.same(times, [...times].sort((a, b) => b - a), 'newest first')

    const moderator = (await twitchLogin(sim, 'sim_mid', ['moderator:read:followers'])).access_token
    const modView = await json(await helix(sim, `/channels/followers?broadcaster_id=${big.userId}&first=5`, moderator))
    t.equal(modView.data.length, 5, 'sim_mid moderates sim_big')

    const one = own.data[3]
    const lookup = await json(await helix(sim, `/channels/followers?broadcaster_id=${big.userId}&user_id=${one.user_id}`, bigToken))
    t.same(lookup, { total: big.followers, data: [one], pagination: {} })
    const notFollowing = await json(await helix(sim, `/channels/followers?broadcaster_id=${big.userId}&user_id=${sim.control.expectedTwitch('sim_new').userId}`, bigToken))
    t.same(notFollowing, { total: big.followers, data: [], pagination: {} })
  })

  t.test('cursor pagination walks the whole list and ends with "pagination": {}', async (t) => {
    const midToken = (await twitchLogin(sim, 'sim_mid', ['moderator:read:followers'])).access_token
    const seen = new Set<string>()
    let cursor: string | undefined
    let last: Record<string, unknown> | undefined
    let pages = 0
    do {
      const body = await json(await helix(sim, `/channels/followers?broadcaster_id=${mid.userId}&first=100${cursor === undefined ? '' : `&after=${encodeURIComponent(cursor)}`}`, midToken))
      for (const f of body.data) seen.add(f.user_id)
      cursor = body.pagination.cursor
      last = body
      pages++
    } while (cursor !== undefined && pages < 50)
    t.ok(last !== undefined && 'pagination' in last, 'pagination is present on the last page')
    t.same(last?.pagination, {}, 'an empty object, not missing')
    t.equal(seen.size, mid.followers, 'every follower once')
  })

  t.test('Get Followed Channels and Get Followed Streams need user:read:follows and the token\'s own user_id', async (t) => {
    const followed = await json(await helix(sim, `/channels/followed?user_id=${big.userId}&first=100`, bigToken))
    t.equal(followed.total, big.followedChannels)
    t.equal(followed.data.length, big.followedChannels)
    t.same(followed.pagination, {})
    t.match(followed.data[0], { broadcaster_id: String, broadcaster_login: String, broadcaster_name: String, followed_at: /Z$/ })

    const missing = await helix(sim, `/channels/followed?user_id=${mid.userId}`, midPlain)
    t.equal(missing.status, 401)
    t.same(await json(missing), { error: 'Unauthorized', status: 401, message: 'Missing scope: user:read:follows' })
    t.equal((await helix(sim, `/channels/followed?user_id=${mid.userId}`, bigToken)).status, 401, 'someone else\'s user_id')

    const streams = await json(await helix(sim, `/streams/followed?user_id=${big.userId}`, bigToken))
    t.ok(streams.data.length >= 3, 'sim_big follows channels that never go offline')
    t.match(streams.data[0], { type: 'live', tag_ids: [], is_mature: false, thumbnail_url: /\{width\}x\{height\}/ })
    t.notOk('total' in streams)
  })

  t.test('Get Streams and Get Top Games page with after and before', async (t) => {
    const streams = await json(await helix(sim, '/streams?first=2', midPlain))
    t.equal(streams.data.length, 2)
    const counts = streams.data.map((s: { viewer_count: number }) => s.viewer_count)
    t.ok(counts[0] >= counts[1], 'most watched first')
    const games = await json(await helix(sim, '/games/top?first=5', midPlain))
    t.equal(games.data.length, 5)
    t.match(games.data[0], { id: String, name: String, box_art_url: /\{width\}x\{height\}/, igdb_id: String })
    const next = await json(await helix(sim, `/games/top?first=5&after=${encodeURIComponent(games.pagination.cursor)}`, midPlain))
    const back = await json(await helix(sim, `/games/top?first=5&before=${encodeURIComponent(next.pagination.cursor)}`, midPlain))
    t.same(back.data, games.data, 'before returns the previous page')
    t.equal((await helix(sim, '/games/top?first=101', midPlain)).status, 400)
    t.equal((await helix(sim, '/streams?type=LIVE', midPlain)).status, 400, 'enums are case-sensitive')
  })

  t.test('Get Games by id, name or igdb_id; Get Streams of a game, paginated', async (t) => {
    const app = await appToken(sim)
    let body = await json(await helix(sim, '/games?id=509658&id=99999999', app))
    t.same(body, { data: [{ id: '509658', name: 'Just Chatting', box_art_url: 'https://static-cdn.jtvnw.net/ttv-boxart/509658-{width}x{height}.jpg', igdb_id: '' }] }, 'unknown ids left out')
    body = await json(await helix(sim, '/games?name=minecraft&igdb_id=1905', app))
    t.same(body.data.map((g: { name: string }) => g.name).sort(), ['Fortnite', 'Minecraft'])
    t.same(await json(await helix(sim, '/games?id=1', app)), { data: [] })
    const none = await helix(sim, '/games', app)
    t.equal(none.status, 400)
    t.match(await json(none), { status: 400, message: /id/ })
    t.equal((await helix(sim, `/games?${Array.from({ length: 101 }, (_, i) => `id=${i}`).join('&')}`, app)).status, 400)

    const all = await json(await helix(sim, '/streams?first=100', app))
    const gameId = all.data[0].game_id as string
    const inGame = all.data.filter((s: { game_id: string }) => s.game_id === gameId).length
    const seen: string[] = []
    let cursor: string | undefined
    do {
      body = await json(await helix(sim, `/streams?game_id=${gameId}&first=1${cursor === undefined ? '' : `&after=${encodeURIComponent(cursor)}`}`, app))
      for (const s of body.data) { t.equal(s.game_id, gameId); seen.push(s.id) }
      cursor = body.pagination.cursor
    } while (cursor !== undefined)
    t.equal(seen.length, inGame, 'every live stream of the game, one page at a time')
  })

  t.test('Get Broadcaster Subscriptions: total and points (tier 1000 = 1, 2000 = 2, 3000 = 6)', async (t) => {
    const subs = big.subscribers
    t.equal(subs.points, subs.tiers['1000'] + 2 * subs.tiers['2000'] + 6 * subs.tiers['3000'])
    t.ok(subs.tiers['3000'] > 0 && subs.tiers['2000'] > 0, 'every tier occurs')
    const tiers = { 1000: 0, 2000: 0, 3000: 0 } as Record<string, number>
    let cursor: string | undefined
    let body: { total: number, points: number, data: Array<{ tier: string, is_gift: boolean, gifter_id: string }>, pagination: { cursor?: string } }
    do {
      body = await json(await helix(sim, `/subscriptions?broadcaster_id=${big.userId}&first=100${cursor === undefined ? '' : `&after=${encodeURIComponent(cursor)}`}`, bigToken))
      for (const s of body.data) tiers[s.tier] = (tiers[s.tier] ?? 0) + 1
      cursor = body.pagination.cursor
    } while (cursor !== undefined)
    t.equal(body.total, subs.total)
    t.equal(body.points, subs.points)
    t.same(tiers, subs.tiers, 'the list adds up to the summary')
    t.same(body.pagination, {})

    const missing = await helix(sim, `/subscriptions?broadcaster_id=${mid.userId}`, midPlain)
    t.same(await json(missing), { error: 'Unauthorized', status: 401, message: 'Missing scope: channel:read:subscriptions' })
    t.equal((await helix(sim, `/subscriptions?broadcaster_id=${mid.userId}`, bigToken)).status, 401, 'only one\'s own channel')
  })

  t.test('Get Videos: one of id, user_id, game_id; Twitch\'s duration and thumbnail formats', async (t) => {
    const page = await json(await helix(sim, `/videos?user_id=${big.userId}&first=100`, midPlain))
    t.equal(page.data.length, Math.min(100, big.videos.count))
    const video = page.data[0]
    t.match(video, { user_id: big.userId, viewable: 'public', duration: /^(\d+h)?(\d+m)?\d+s$/, thumbnail_url: /%\{width\}x%\{height\}/, url: /^https:\/\/www\.twitch\.tv\/videos\/\d+$/ })
    let views = 0
    let count = 0
    let cursor: string | undefined
    do {
      const body = await json(await helix(sim, `/videos?user_id=${big.userId}&first=100${cursor === undefined ? '' : `&after=${encodeURIComponent(cursor)}`}`, midPlain))
      for (const v of body.data) { views += v.view_count; count++ }
      cursor = body.pagination.cursor
    } while (cursor !== undefined)
    t.same({ count, views }, big.videos, 'the expected numbers are what Helix shows')
    const byId = await json(await helix(sim, `/videos?id=${video.id}`, midPlain))
    t.same(byId.data, [video])
    t.equal((await helix(sim, `/videos?id=${video.id}&user_id=${big.userId}`, midPlain)).status, 400)
    t.equal((await helix(sim, '/videos', midPlain)).status, 400)
  })

  t.test('Get Bits Leaderboard needs bits:read and ranks by score', async (t) => {
    const board = await json(await helix(sim, '/bits/leaderboard?count=5', bigToken))
    t.equal(board.data.length, 5)
    t.equal(board.total, 5)
    t.same(board.data.map((e: { rank: number }) => e.rank), [1, 2, 3, 4, 5])
    t.ok(board.data[0].score >= board.data[4].score)
    t.same(board.date_range, { started_at: '', ended_at: '' })
    const week = await json(await helix(sim, '/bits/leaderboard?period=week&started_at=2026-03-04T00:00:00Z', bigToken))
    t.same(week.date_range, { started_at: '2026-03-02T00:00:00Z', ended_at: '2026-03-09T00:00:00Z' })
    const missing = await helix(sim, '/bits/leaderboard', midPlain)
    t.same(await json(missing), { error: 'Unauthorized', status: 401, message: 'Missing scope: bits:read' })
  })

  t.test('the legacy users/follows answers 410 with twitch-cli\'s body', async (t) => {
    const res = await helix(sim, `/users/follows?to_id=${big.userId}`, bigToken)
    t.equal(res.status, 410)
    t.same(await json(res), { error: 'Gone', status: 410, message: 'The API is deprecated.' })
  })

  t.test('Get Channel Information answers for each repeated broadcaster_id', async (t) => {
    const body = await json(await helix(sim, `/channels?broadcaster_id=${big.userId}&broadcaster_id=${mid.userId}`, midPlain))
    t.equal(body.data.length, 2)
    t.match(body.data[0], { broadcaster_id: big.userId, broadcaster_login: 'sim_big', broadcaster_language: 'en', game_id: String, delay: 0, is_branded_content: false })
    t.equal((await helix(sim, '/channels', midPlain)).status, 400)
  })
})
