import t from 'tap'
import { FixedWindowLimiter } from '../src/rate-limit.js'
import { appToken, helix, json, startSim, twitchLogin, xGet, xLogin } from './helpers.js'

t.test('Twitch: the 801st Helix call in a minute for one client and user gets 429 until the reset', async (t) => {
  const sim = await startSim(t)
  const token = (await twitchLogin(sim, 'sim_mid')).access_token
  const other = (await twitchLogin(sim, 'sim_big')).access_token

  // Sequential batches: the order of the answers, not their speed, is what is checked. The clock
  // goes back to the same instant before each batch, so however slow the machine, all 800 calls
  // fall in one window.
  const remaining: number[] = []
  const windowStart = sim.control.now()
  for (let batch = 0; batch < 16; batch++) {
    sim.control.setClock(windowStart)
    const answers = await Promise.all(Array.from({ length: 50 }, () => helix(sim, '/games/top?first=1', token)))
    for (const res of answers) {
      t.equal(res.status, 200)
      remaining.push(Number(res.headers.get('ratelimit-remaining')))
      await res.arrayBuffer()
    }
  }
  t.equal(remaining.length, 800)
  t.same([...remaining].sort((a, b) => b - a), Array.from({ length: 800 }, (_, i) => 799 - i), 'each call spends one point')

  const refused = await helix(sim, '/games/top?first=1', token)
  t.equal(refused.status, 429)
  t.same(await json(refused), { error: 'Too Many Requests', status: 429, message: 'Request limit exceeded' })
  t.equal(refused.headers.get('ratelimit-limit'), '800')
  t.equal(refused.headers.get('ratelimit-remaining'), '0')
  const reset = Number(refused.headers.get('ratelimit-reset'))
  t.ok(reset * 1000 > sim.control.now(), 'Ratelimit-Reset is in the future')

  t.equal((await helix(sim, '/games/top?first=1', other)).status, 200, 'another user of the same client has its own bucket')
  t.equal((await helix(sim, '/games/top?first=1', await appToken(sim))).status, 200, 'app tokens have their own bucket')

  sim.control.setClock(reset * 1000)
  const after = await helix(sim, '/games/top?first=1', token)
  t.equal(after.status, 200, 'after the reset the call succeeds')
  t.equal(after.headers.get('ratelimit-remaining'), '799')
})

t.test('X: an exhausted endpoint window answers 429 with x-rate-limit-reset until the window ends', async (t) => {
  const sim = await startSim(t)
  const access = await xLogin(sim, 'sim_big')
  for (let i = 0; i < 75; i++) {
    const res = await xGet(sim, '/2/users/me', access)
    t.equal(res.headers.get('x-rate-limit-remaining'), String(74 - i))
    if (res.status !== 200) t.fail(`call ${i + 1}: ${res.status}`)
    await res.arrayBuffer()
  }
  const refused = await xGet(sim, '/2/users/me', access)
  t.equal(refused.status, 429)
  t.match(refused.headers.get('content-type'), /^application\/problem\+json/)
  t.same(await json(refused), { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 })
  t.equal(refused.headers.get('x-rate-limit-limit'), '75')
  t.equal(refused.headers.get('x-rate-limit-remaining'), '0')
  const reset = Number(refused.headers.get('x-rate-limit-reset'))
  t.ok(reset * 1000 > sim.control.now(), 'x-rate-limit-reset is in the future')

  const timeline = await xGet(sim, `/2/users/${access.userId}/tweets?max_results=5`, access)
  t.equal(timeline.status, 200, 'windows are per endpoint')

  sim.control.setClock(reset * 1000)
  t.equal((await xGet(sim, '/2/users/me', access)).status, 200, 'a new window after the reset')
})

t.test('a window survives the clock moving back a little and ends when it moves back past a window', async (t) => {
  const limiter = new FixedWindowLimiter(2, 60_000)
  t.ok(limiter.take('k', 1_000_000).allowed)
  t.ok(limiter.take('k', 1_000_000).allowed)
  t.notOk(limiter.take('k', 990_000).allowed, 'ten seconds back: still the spent window')
  t.ok(limiter.take('k', 900_000).allowed, 'more than a window back: a fresh budget')
  t.equal(limiter.peek('other', 5).remaining, 2, 'an unused key has a full budget')
})
