import t from 'tap'
import { helix, json, startSim, twitchLogin, twitchPost, TWITCH, xGet, xLogin } from './helpers.js'

const HOUR = 3_600_000

t.test('the control surface is 404 when disabled', async (t) => {
  const sim = await startSim(t, { control: false })
  for (const [method, path] of [['GET', '/_sim/clock'], ['POST', '/_sim/fail'], ['GET', '/_sim/calls'], ['GET', '/_sim/expected/twitch/sim_big'], ['POST', '/_sim/revoke']]) {
    const res = await fetch(`${sim.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined })
    t.equal(res.status, 404, `${method} ${path}`)
  }
})

t.test('the control surface over HTTP', async (t) => {
  const sim = await startSim(t)
  const post = (path: string, body: unknown) => fetch(`${sim.url}/_sim${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

  t.test('reads, sets and advances the clock', async (t) => {
    const now = await json(await fetch(`${sim.url}/_sim/clock`))
    t.ok(Math.abs(now.now - sim.control.now()) < 60_000)
    const set = await json(await post('/clock', { set: '2026-05-01T10:30:00Z' }))
    t.ok(set.now >= Date.parse('2026-05-01T10:30:00Z') && set.now < Date.parse('2026-05-01T10:31:00Z'))
    const advanced = await json(await post('/clock', { advance: 2 * HOUR }))
    t.ok(advanced.now - set.now >= 2 * HOUR)
    t.equal((await post('/clock', { set: 'yesterday' })).status, 400)
  })

  t.test('latency: every provider answer comes that much later, and the calls in flight together are counted', async (t) => {
    const token = (await twitchLogin(sim, 'sim_mid')).access_token
    t.equal((await fetch(`${sim.url}/_sim/calls`, { method: 'DELETE' })).status, 204)
    const put = (body: unknown) => fetch(`${sim.url}/_sim/latency`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    t.equal((await put({ ms: -1 })).status, 400, 'a negative latency is refused')
    t.same(await json(await put({ ms: 200 })), { ms: 200 })
    const started = Date.now()
    const answers = await Promise.all([1, 2, 3].map(async () => await helix(sim, '/users', token)))
    t.same(answers.map((a) => a.status), [200, 200, 200])
    t.ok(Date.now() - started >= 200, 'answered after the latency')
    t.same(await json(await fetch(`${sim.url}/_sim/in-flight`)), { max: 3, waves: 1 }, 'three calls were in flight at once, in one wave')
    await helix(sim, '/users', token)
    await helix(sim, '/users', token)
    t.same(await json(await fetch(`${sim.url}/_sim/in-flight`)), { max: 3, waves: 3 }, 'two calls one after the other are two waves more')
    await put({ ms: 0 })
    t.equal((await fetch(`${sim.url}/_sim/calls`, { method: 'DELETE' })).status, 204)
    await helix(sim, '/users', token)
    t.same(await json(await fetch(`${sim.url}/_sim/in-flight`)), { max: 1, waves: 1 }, 'counted again from the reset')
  })

  t.test('failNext makes exactly the next N calls of the endpoint fail, with the provider\'s bodies', async (t) => {
    const token = (await twitchLogin(sim, 'sim_mid')).access_token
    t.equal((await post('/fail', { endpoint: 'GET /helix/users', count: 2, status: 503 })).status, 204)
    const first = await helix(sim, '/users', token)
    t.equal(first.status, 503)
    t.same(await json(first), { error: 'Service Unavailable', status: 503, message: 'Service Unavailable' })
    t.ok(first.headers.get('ratelimit-limit'), 'injected failures carry the rate-limit headers too')
    t.equal((await helix(sim, '/users', token)).status, 503)
    t.equal((await helix(sim, '/users', token)).status, 200, 'the third call succeeds')
    t.equal((await helix(sim, '/games/top', token)).status, 200, 'other endpoints are untouched')

    sim.control.failNext('POST /oauth2/token', 1, 500)
    const tokenCall = await twitchPost(sim, '/token', { client_id: TWITCH.clientId, client_secret: TWITCH.clientSecret, grant_type: 'client_credentials' })
    t.equal(tokenCall.status, 500)
    t.same(await json(tokenCall), { status: 500, message: 'Internal Server Error' })

    const access = await xLogin(sim, 'sim_mid')
    sim.control.failNext('GET /2/users/me', 1, 429)
    const limited = await xGet(sim, '/2/users/me', access)
    t.equal(limited.status, 429)
    t.same(await json(limited), { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 })
    t.equal(limited.headers.get('x-rate-limit-remaining'), '0')
    t.equal((await xGet(sim, '/2/users/me', access)).status, 200)
  })

  t.test('an injected Helix 429 looks like an empty bucket that refills a second later', async (t) => {
    const token = (await twitchLogin(sim, 'sim_mid')).access_token
    sim.control.failNext('GET /helix/streams', 1, 429)
    const res = await helix(sim, '/streams', token)
    t.equal(res.status, 429)
    t.same(await json(res), { error: 'Too Many Requests', status: 429, message: 'Request limit exceeded' })
    t.equal(res.headers.get('ratelimit-remaining'), '0')
    t.ok(Number(res.headers.get('ratelimit-reset')) * 1000 - sim.control.now() <= 2000)
  })

  t.test('an unknown endpoint name is refused rather than ignored', async (t) => {
    const res = await post('/fail', { endpoint: 'GET /helix/user', count: 1, status: 500 })
    t.equal(res.status, 400)
    t.match((await json(res)).message, 'unknown endpoint')
    t.throws(() => sim.control.failNext('GET /2/users/me/', 1, 500))
    t.equal((await post('/fail', { endpoint: 'GET /helix/users', count: 1, status: 404 })).status, 400, 'only 500, 503 and 429')
  })

  t.test('revokeGrant ends a user\'s tokens: validate and Helix answer 401, X too', async (t) => {
    const tokens = await twitchLogin(sim, 'sim_big')
    const access = await xLogin(sim, 'sim_big')
    t.equal((await post('/revoke', { provider: 'twitch', login: 'sim_big' })).status, 204)
    const validate = await fetch(`${sim.twitchAuthUrl}/validate`, { headers: { Authorization: `OAuth ${tokens.access_token}` } })
    t.equal(validate.status, 401)
    t.same(await json(validate), { status: 401, message: 'invalid access token' })
    t.equal((await helix(sim, '/users', tokens.access_token)).status, 401)
    t.equal((await twitchPost(sim, '/token', { client_id: TWITCH.clientId, client_secret: TWITCH.clientSecret, grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).status, 400)
    t.equal((await xGet(sim, '/2/users/me', access)).status, 200, 'the X grant is separate')
    sim.control.revokeGrant('twitter', 'sim_big')
    t.equal((await xGet(sim, '/2/users/me', access)).status, 401)
    t.equal((await post('/revoke', { provider: 'twitch', login: 'nobody_here' })).status, 404)
  })

  t.test('counts the calls of each endpoint and resets the counts', async (t) => {
    await fetch(`${sim.url}/_sim/calls`, { method: 'DELETE' })
    const token = (await twitchLogin(sim, 'sim_mid')).access_token
    await helix(sim, '/users', token)
    await helix(sim, '/users?login=sim_big', token)
    await helix(sim, '/users/follows', token)
    const counts = await json(await fetch(`${sim.url}/_sim/calls`))
    t.same(counts, { 'GET /helix/users': 2, 'GET /helix/users/follows': 1, 'GET /oauth2/authorize': 1, 'POST /oauth2/token': 1 })
    t.same(sim.control.callCounts(), counts)
    sim.control.resetCounts()
    t.same(sim.control.callCounts(), {})
  })

  t.test('the expected metrics are served and agree with the in-process control', async (t) => {
    t.same(await json(await fetch(`${sim.url}/_sim/expected/twitch/sim_big`)), sim.control.expectedTwitch('sim_big'))
    t.same(await json(await fetch(`${sim.url}/_sim/expected/twitter/sim_mid`)), sim.control.expectedTwitter('sim_mid'))
    t.equal((await fetch(`${sim.url}/_sim/expected/twitch/nobody_here`)).status, 404)
  })
})

t.test('metrics move in steps of the simulated hour', async (t) => {
  const sim = await startSim(t)
  const before = sim.control.expectedTwitch('sim_big')
  const beforeX = sim.control.expectedTwitter('sim_big')
  sim.control.advanceClock(50 * 60_000)
  t.same(sim.control.expectedTwitch('sim_big'), before, 'within the hour nothing changes')
  sim.control.advanceClock(12 * HOUR)
  const later = sim.control.expectedTwitch('sim_big')
  t.ok(later.followers > before.followers, 'followers grow within hours')
  t.ok(later.videos.views > before.videos.views, 'video views grow')
  sim.control.advanceClock(7 * 24 * HOUR)
  const laterX = sim.control.expectedTwitter('sim_big')
  t.ok(laterX.followers > beforeX.followers && laterX.posts > beforeX.posts, 'X followers and posts grow over a week')
  t.match(sim.control.expectedTwitch('sim_new'), { followers: 0, followedChannels: 0, subscribers: { total: 0, points: 0 }, videos: { count: 0, views: 0 } }, 'sim_new stays empty')
  t.match(sim.control.expectedTwitter('sim_new'), { followers: 0, following: 0, posts: 0 })

  const now = sim.control.expectedTwitch('sim_big')
  const token = (await twitchLogin(sim, 'sim_big', ['channel:read:subscriptions'])).access_token
  const live = await json(await helix(sim, `/channels/followers?broadcaster_id=${now.userId}`, token))
  t.equal(live.total, now.followers, 'Helix shows the expected number at the new hour')
  const subs = await json(await helix(sim, `/subscriptions?broadcaster_id=${now.userId}&first=1`, token))
  t.same({ total: subs.total, points: subs.points }, { total: now.subscribers.total, points: now.subscribers.points })
})
