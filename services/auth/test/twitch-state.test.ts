import t from 'tap'
import { Browser, me, registerWithPassword as register, twitchCallbackUrl } from './browser.js'
import { TEST_PUBLIC_URL, build, callsTo, countRows, startSim } from './helper.js'

// The Twitch state is single use and bound to the browser (and the user) that started the flow
// (docs/pitfalls.md, "OAuth"; oauth/attempts.ts). The state itself travels in URLs, so knowing it
// must not be enough.
const sim = await startSim(t)
const PUBLIC = TEST_PUBLIC_URL
const TOKEN = 'POST /oauth2/token'

const callbackUrl = (browser: Browser, login = 'sim_mid') => twitchCallbackUrl(browser, login, '/auth/twitch/login?returnTo=/settings')

t.test('knowing the state is not enough: a browser that plants it without the verifier is refused, and the attempt is used up', async (t) => {
  const auth = await build(t, {}, { sim })
  const victim = new Browser(auth, '198.51.100.71')
  const callback = await callbackUrl(victim)
  const state = callback.searchParams.get('state')!
  t.equal(victim.cookie('pulse_oauth_twitch_state')?.value, state, 'the state cookie repeats the state')

  // Someone who read the callback URL (code and state) replays it from their own browser, with the
  // state cookie set to the state they saw: only the verifier is missing.
  const attacker = new Browser(auth, '198.51.100.72')
  attacker.setCookie('pulse_oauth_twitch_state', state)
  const tokenCalls = callsTo(sim, TOKEN)
  const stolen = await attacker.request(callback)
  t.equal(stolen.location?.searchParams.get('error'), 'invalid_state')
  t.equal(attacker.cookie('pulse_session'), undefined, 'no session for the attacker')
  t.equal(callsTo(sim, TOKEN), tokenCalls, 'the code was not exchanged')
  t.equal(await countRows(auth, 'users'), 0, 'nobody signed in')

  // So is a verifier of another attempt of the attacker's own, next to the victim's state.
  const second = await callbackUrl(victim)
  await attacker.request(`${PUBLIC}/auth/twitch/login`)
  attacker.setCookie('pulse_oauth_twitch_state', second.searchParams.get('state')!)
  const mixed = await attacker.request(second)
  t.equal(mixed.location?.searchParams.get('error'), 'invalid_state', 'a verifier of another attempt does not match')
  t.equal(callsTo(sim, TOKEN), tokenCalls)

  // The attempt was taken by the refused callback: the victim's own callback is refused too.
  const own = await victim.request(callback)
  t.equal(own.location?.searchParams.get('error'), 'invalid_state', 'a state seen with the wrong browser is not usable again')
  t.equal(await auth.redis.exists(`oauth-attempt:twitch:${state}`, `oauth-attempt:twitch:${second.searchParams.get('state')!}`), 0, 'neither of the victim\'s attempts is left in Redis')
})

t.test('a state is used once: the same callback sent twice at once exchanges one code and signs in once', async (t) => {
  const auth = await build(t, {}, { sim })
  const browser = new Browser(auth, '198.51.100.73')
  const callback = await callbackUrl(browser)
  t.equal((await auth.redis.keys(`${auth.config.REDIS_PREFIX}oauth-attempt:twitch:*`)).length, 1, 'the attempt waits in Redis')
  const tokenCalls = callsTo(sim, TOKEN)
  const answers = await Promise.all([browser.request(callback), browser.request(callback)])
  const errors = answers.map((a) => a.location?.searchParams.get('error') ?? null).sort()
  t.same(errors, ['invalid_state', null], 'one callback completes, the other is refused')
  t.equal(callsTo(sim, TOKEN), tokenCalls + 1, 'one code exchange')
  t.equal(await countRows(auth, 'users'), 1)
  t.equal(await countRows(auth, 'connections'), 1)
  t.same(await auth.redis.keys(`${auth.config.REDIS_PREFIX}oauth-attempt:*`), [], 'the attempt is gone')
  t.equal(browser.cookie('pulse_oauth_twitch'), undefined, 'the verifier cookie is cleared')
  t.equal(browser.cookie('pulse_oauth_twitch_state'), undefined, 'the state cookie is cleared')
})

t.test('an attempt finishes only for who started it: logged out → signed in meanwhile, or logged in → logged out meanwhile', async (t) => {
  const auth = await build(t, {}, { sim })

  // Started logged out, then this browser logged in (another tab): the grant is not linked to that account.
  const browser = new Browser(auth, '198.51.100.74')
  const signInCallback = await callbackUrl(browser)
  const userId = await register(browser, 'meanwhile')
  const tokenCalls = callsTo(sim, TOKEN)
  const first = await browser.request(signInCallback)
  t.equal(first.location?.toString(), `${PUBLIC}/settings?error=invalid_state`, 'back to returnTo with the error')
  t.equal(callsTo(sim, TOKEN), tokenCalls, 'no code exchange')
  t.same((await me(browser)).user.connections, [], 'nothing linked')
  t.equal((await me(browser)).user.id, userId, 'still logged in as themselves')

  // Started logged in to connect, then logged out: the callback does not sign anyone in.
  const connectCallback = await callbackUrl(browser, 'sim_big')
  t.equal((await browser.request(`${PUBLIC}/auth/logout`, { method: 'POST' })).status, 204)
  const second = await browser.request(connectCallback)
  t.equal(second.location?.searchParams.get('error'), 'invalid_state')
  t.equal(callsTo(sim, TOKEN), tokenCalls, 'no code exchange')
  t.equal(browser.cookie('pulse_session'), undefined, 'no session')
  t.equal(await countRows(auth, 'users'), 1, 'no user created')
  t.equal(await countRows(auth, 'connections'), 0)
})
