import t from 'tap'
import { build, callsTo, startSim } from './helper.js'

const sim = await startSim(t)
const REQUEST_TOKEN = 'POST /oauth/request_token'

t.test('starting "Sign in with X" is limited per address: past the budget, X is not asked for a request token', async (t) => {
  const auth = await build(t, { TWITTER_LOGIN_MAX_PER_ADDRESS: '2', TWITTER_LOGIN_WINDOW_S: '300' }, { sim })
  const start = (ip: string) => auth.app.inject({ url: '/auth/twitter/login', headers: auth.from(ip) })
  const before = callsTo(sim, REQUEST_TOKEN)
  t.equal((await start('2001:db8:9::1')).statusCode, 302)
  t.equal((await start('2001:db8:9::2')).statusCode, 302)
  t.equal(callsTo(sim, REQUEST_TOKEN), before + 2)
  const refused = await start('2001:db8:9:0:1::3')
  t.equal(refused.statusCode, 429, 'the /64 spent its budget')
  t.equal(refused.json().code, 'AUTH_TOO_MANY_SIGN_IN_STARTS')
  const retryAfter = Number(refused.headers['retry-after'])
  t.ok(retryAfter > 0 && retryAfter <= 300, `retry-after ${retryAfter}`)
  t.equal(callsTo(sim, REQUEST_TOKEN), before + 2, 'no request token was asked for')
  t.equal((await start('203.0.113.99')).statusCode, 302, 'another address still starts')
})
