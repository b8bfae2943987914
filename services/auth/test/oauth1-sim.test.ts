import { parseFormEncoded, signRequest } from '@pulse/oauth1'
import { SIM_CREDENTIALS } from '@pulse/provider-sim'
import t from 'tap'
import { startSim } from './helper.js'

const sim = await startSim(t)
const CONSUMER = { consumerKey: SIM_CREDENTIALS.twitter.consumerKey, consumerSecret: SIM_CREDENTIALS.twitter.consumerSecret }

/** A signed form POST, as X's token steps are made. */
async function post (path: string, form: Record<string, string>, auth: { token?: string, tokenSecret?: string, callback?: string, verifier?: string, consumerSecret?: string } = {}) {
  const url = `${sim.twitterApiUrl}${path}`
  const authorization = signRequest({ method: 'POST', url, params: form, ...CONSUMER, ...auth })
  return await fetch(url, { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) })
}

t.test('the simulator (which verifies every signature) accepts @pulse/oauth1 requests with awkward characters', async (t) => {
  // A callback with a query full of characters encodeURIComponent leaves alone, and a signed form body.
  const callback = "http://pulse.test/auth/twitter/callback?next=a b!*'()&x=%2F"
  const requested = await post('/oauth/request_token', { x_auth_access_type: 'read' }, { callback })
  t.equal(requested.status, 200, await requested.clone().text())
  const { oauth_token: requestToken, oauth_token_secret: requestSecret, oauth_callback_confirmed: confirmed } = parseFormEncoded(await requested.text())
  t.equal(confirmed, 'true')

  const consent = await fetch(`${sim.twitterApiUrl}/oauth/authorize?oauth_token=${requestToken}&sim_user=sim_big&sim_decision=approve`, { redirect: 'manual' })
  const back = new URL(consent.headers.get('location')!)
  t.equal(back.searchParams.get('next'), "a b!*'()", 'X kept the callback as signed')
  const accessed = await post('/oauth/access_token', {}, { token: requestToken, tokenSecret: requestSecret, verifier: back.searchParams.get('oauth_verifier')! })
  t.equal(accessed.status, 200)
  const access = parseFormEncoded(await accessed.text())
  t.equal(access.screen_name, 'sim_big')

  // GETs with query parameters: commas, and a path parameter.
  for (const path of ['/2/users/me?user.fields=public_metrics,created_at,description', `/2/users/${access.user_id}/tweets?max_results=5&tweet.fields=public_metrics,created_at&exclude=replies,retweets`]) {
    const url = `${sim.twitterApiUrl}${path}`
    const res = await fetch(url, { headers: { authorization: signRequest({ method: 'GET', url, ...CONSUMER, token: access.oauth_token, tokenSecret: access.oauth_token_secret }) } })
    t.equal(res.status, 200, path)
  }

  // The same request with a wrong secret is refused: the simulator really checks.
  const forged = await post('/oauth/request_token', {}, { callback, consumerSecret: 'not-the-secret' })
  t.equal(forged.status, 401)
  t.match(await forged.json(), { errors: [{ code: 32 }] })
})
