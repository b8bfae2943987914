import { TcpProxy } from '@pulse/testing'
import t from 'tap'
import { Browser, consent, me } from './browser.js'
import { TEST_PUBLIC_URL, build, callsTo, startSim } from './helper.js'

// Where auth and browsers reach the provider at different addresses (the simulator inside Docker
// Compose), the consent pages go to the browser-facing URL and every server-to-server call to the
// one auth uses. Here the browser reaches the simulator through a second port.
const sim = await startSim(t)
const browserSide = await TcpProxy.start(sim.twitchApiUrl)
t.teardown(() => browserSide.stop())
const env = {
  TWITCH_BROWSER_AUTH_URL: browserSide.url(sim.twitchAuthUrl),
  TWITTER_BROWSER_URL: browserSide.url(sim.twitterApiUrl)
}

t.test('Twitch: the consent page is on the browser-facing URL, the code exchange on TWITCH_AUTH_URL', async (t) => {
  const auth = await build(t, env, { sim })
  const browser = new Browser(auth)
  const tokenCalls = callsTo(sim, 'POST /oauth2/token')
  const start = await browser.request(`${TEST_PUBLIC_URL}/auth/twitch/login`)
  t.equal(start.location?.origin, new URL(env.TWITCH_BROWSER_AUTH_URL).origin, 'the browser is sent to the address it can reach')
  t.equal(start.location?.pathname, '/oauth2/authorize')
  const { final } = await browser.navigate(start.location!, consent('sim_mid'))
  t.equal(final.toString(), `${TEST_PUBLIC_URL}/`, 'the sign-in completes')
  t.equal(callsTo(sim, 'POST /oauth2/token'), tokenCalls + 1, 'one code exchange, by auth')
  t.equal((await me(browser)).user.username, 'sim_mid')
})

t.test('X: the authenticate page is on the browser-facing URL, the token calls on TWITTER_API_URL', async (t) => {
  const auth = await build(t, env, { sim })
  const browser = new Browser(auth)
  const start = await browser.request(`${TEST_PUBLIC_URL}/auth/twitter/login`)
  t.equal(start.location?.origin, new URL(env.TWITTER_BROWSER_URL).origin, 'the browser is sent to the address it can reach')
  t.equal(start.location?.pathname, '/oauth/authenticate')
  const { final } = await browser.navigate(start.location!, consent('sim_mid'))
  t.equal(final.toString(), `${TEST_PUBLIC_URL}/`, 'the sign-in completes')
  t.match((await me(browser)).user.connections, [{ provider: 'twitter' }])
})

t.test('without the browser-facing settings, browsers go where auth goes', async (t) => {
  const auth = await build(t, {}, { sim })
  const start = await new Browser(auth).request(`${TEST_PUBLIC_URL}/auth/twitch/login`)
  t.equal(start.location?.origin, new URL(sim.twitchAuthUrl).origin)
})
