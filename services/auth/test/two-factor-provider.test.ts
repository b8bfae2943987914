import { generate } from 'otplib'
import t from 'tap'
import { Browser, consent, me, signIn } from './browser.js'
import { build, startSim } from './helper.js'

// Signing in with a provider is the first factor only: an account with two-factor on is asked for
// its code before it gets a session, as a password login is.

const sim = await startSim(t)

t.test('a provider sign-in of an account with two-factor on waits for the code; the code completes it once', async (t) => {
  const auth = await build(t, {}, { sim })
  const { browser: first, userId } = await signIn(auth, 'twitch', 'sim_mid')
  const setup = await first.request(`${first.gatewayUrl}/auth/two-factor/setup`, { method: 'POST' })
  const { secret } = JSON.parse(setup.body) as { secret: string }
  const enabled = await first.request(`${first.gatewayUrl}/auth/two-factor/enable`, { method: 'POST', json: { code: await generate({ secret }) } })
  t.equal(enabled.status, 200, 'two-factor is on')

  const browser = new Browser(auth, '10.0.0.9')
  const { final } = await browser.navigate(`${auth.config.PUBLIC_URL}/auth/twitch/login?returnTo=/dashboard/twitch`, consent('sim_mid'))
  t.equal(final.pathname, '/dashboard/twitch', 'back on the page the sign-in started from')
  t.notOk(final.searchParams.has('error'))
  const challenge = new URLSearchParams(final.hash.slice(1)).get('two-factor')
  t.match(challenge, /^[\w-]{40,}$/, 'the code step\'s challenge is in the fragment, which browsers never send to a server')
  t.equal((await me(browser)).status, 401, 'no session before the code')

  const code = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }) // the enrolment used this step's code
  const wrong = await browser.request(`${browser.gatewayUrl}/auth/login/two-factor`, { method: 'POST', json: { challenge, code: (Number(code) ^ 1).toString().padStart(6, '0') } })
  t.equal(wrong.status, 401, 'a wrong code is refused')
  t.equal(JSON.parse(wrong.body).code, 'AUTH_INVALID_CODE')
  const right = await browser.request(`${browser.gatewayUrl}/auth/login/two-factor`, { method: 'POST', json: { challenge, code } })
  t.equal(right.status, 200)
  t.match(JSON.parse(right.body), { user: { id: userId, connections: [{ provider: 'twitch', providerLogin: 'sim_mid' }] } })
  t.equal((await me(browser)).user.id, userId, 'signed in as the account')
  const again = await browser.request(`${browser.gatewayUrl}/auth/login/two-factor`, { method: 'POST', json: { challenge, code } })
  t.equal(again.status, 401, 'the challenge is used up')
})

t.test('an account without two-factor signs in with the provider at once', async (t) => {
  const auth = await build(t, {}, { sim })
  const { browser } = await signIn(auth, 'twitch', 'sim_big')
  t.equal((await me(browser)).status, 200)
})
