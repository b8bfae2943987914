import t from 'tap'
import { Browser, consent } from './browser.js'
import { TEST_PUBLIC_URL, build, startSim, type TestAuth } from './helper.js'

const sim = await startSim(t)
const PUBLIC = TEST_PUBLIC_URL
// The front end on an origin of its own, so "stayed on the gateway" cannot pass for "stayed on the front end".
const FRONTEND = 'http://app.pulse.test'

/** Values of returnTo that try to leave the front end's origin, directly or after URL normalisation. */
const HOSTILE = [
  '//evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  '/a/..//evil.example',
  '/.//evil.example',
  '/./..//evil.example',
  '/a/%2e%2e//evil.example',
  '/%2e//evil.example',
  '/\t/evil.example',
  '/\t/\tevil.example',
  '/\n/evil.example',
  '/\r\n//evil.example',
  '/\r/evil.example',
  'https://evil.example/x',
  'http:evil.example',
  'HTTPS://evil.example',
  'javascript:alert(1)',
  'evil.example',
  ' /x',
  `/${'a'.repeat(5000)}`
]

type Step = 'success' | 'denied' | 'wrong-state'

/** Runs one provider flow from the login link with `returnTo`; answers where the callback sends the browser. */
async function landing (auth: TestAuth, provider: 'twitch' | 'twitter', returnTo: string, step: Step): Promise<URL> {
  const browser = new Browser(auth)
  const start = await browser.request(`${PUBLIC}/auth/${provider}/login?returnTo=${encodeURIComponent(returnTo)}`)
  if (start.status !== 302 || start.location === undefined) throw new Error(`login answered ${start.status}`)
  let callback: URL
  if (step === 'wrong-state') {
    callback = new URL(`${PUBLIC}/auth/${provider}/callback`)
    if (provider === 'twitch') callback.search = 'code=abc&state=not-the-one'
    else callback.search = 'oauth_token=not-the-one&oauth_verifier=v'
  } else {
    const atProvider = await browser.request(consent('sim_mid', step === 'success' ? 'approve' : 'deny')(start.location))
    callback = atProvider.location!
  }
  const end = await browser.request(callback)
  if (end.status !== 302 || end.location === undefined) throw new Error(`callback answered ${end.status}`)
  return end.location
}

t.test('after a provider flow the browser never leaves the front end, whatever returnTo says', async (t) => {
  const auth = await build(t, { FRONTEND_URL: FRONTEND, TWITTER_LOGIN_MAX_PER_ADDRESS: '1000' }, { sim })
  for (const provider of ['twitch', 'twitter'] as const) {
    for (const step of ['success', 'denied', 'wrong-state'] as const) {
      for (const returnTo of HOSTILE) {
        const url = await landing(auth, provider, returnTo, step)
        t.equal(url.origin, FRONTEND, `${provider} ${step} ${JSON.stringify(returnTo.slice(0, 40))}`)
        t.equal(url.pathname, '/', `${provider} ${step} ${JSON.stringify(returnTo.slice(0, 40))}: dropped, the front end's home`)
      }
    }
  }
})

t.test('same-origin paths survive the flow, normalised', async (t) => {
  const auth = await build(t, { FRONTEND_URL: FRONTEND, TWITTER_LOGIN_MAX_PER_ADDRESS: '1000' }, { sim })
  const cases: [string, string][] = [
    ['/settings/connections?tab=twitch', `${FRONTEND}/settings/connections?tab=twitch`],
    ['/a/../b', `${FRONTEND}/b`],
    // Encoded, a slash or backslash is a character of a path segment on this origin, not a separator.
    ['/%2F%2Fevil.example', `${FRONTEND}/%2F%2Fevil.example`],
    ['/%5Cevil.example', `${FRONTEND}/%5Cevil.example`]
  ]
  for (const provider of ['twitch', 'twitter'] as const) {
    for (const [returnTo, expected] of cases) {
      t.equal((await landing(auth, provider, returnTo, 'success')).toString(), expected, `${provider} ${returnTo}`)
      const failed = await landing(auth, provider, returnTo, 'wrong-state')
      t.equal(`${failed.origin}${failed.pathname}`, new URL(expected).origin + new URL(expected).pathname, `${provider} ${returnTo}: errors too`)
      t.equal(failed.searchParams.get('error'), 'invalid_state')
    }
  }
})
