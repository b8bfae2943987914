import { TOKEN_REQUEST_SUBJECTS, type TokenReply } from '@pulse/contracts'
import { testInfra } from '@pulse/testing'
import { connect } from '@nats-io/transport-node'
import t from 'tap'
import { Browser, consent, type Visit } from './browser.js'
import { TEST_PUBLIC_URL, build, eventually, startSim, storedTokens } from './helper.js'

const sim = await startSim(t)
const PUBLIC = TEST_PUBLIC_URL

t.test('no token, code or secret appears in the logs, the responses or the events of the whole life of Twitch and X connections', async (t) => {
  const auth = await build(t, { LOG_LEVEL: 'trace', TWITCH_VALIDATE_INTERVAL_S: '1' }, { sim })
  const nc = await connect({ servers: (await testInfra()).natsUrl })
  t.teardown(() => nc.close())
  const secrets = new Set<string>([auth.config.TWITCH_CLIENT_SECRET])
  const responses: string[] = []
  const keep = (visit: Visit) => { responses.push(`${visit.status} ${visit.location?.toString() ?? ''} ${visit.body}`) }
  const remember = async () => {
    const row = await auth.db.selectFrom('connections').select('user_id').where('provider', '=', 'twitch').orderBy('connected_at', 'desc').executeTakeFirst()
    if (row === undefined) return
    const { tokens } = await storedTokens(auth, row.user_id)
    secrets.add(tokens.accessToken)
    if (tokens.refreshToken !== null) secrets.add(tokens.refreshToken)
  }
  const requestToken = async (request: { userId: string, provider: 'twitch' | 'twitter', rejectedAccessToken?: string }) => {
    const reply = (await nc.request(auth.inner.nats.subject(TOKEN_REQUEST_SUBJECTS[request.provider]), JSON.stringify(request), { timeout: 10_000 })).json<TokenReply>()
    if (reply.ok) secrets.add(reply.accessToken)
    return reply
  }

  // Sign in, step by step, keeping what the provider handed the browser.
  const browser = new Browser(auth)
  const login = await browser.request(`${PUBLIC}/auth/twitch/login?returnTo=/home`)
  keep(login)
  // The state travels in the authorize URL by design; it must stay out of logs and events.
  const state = login.location!.searchParams.get('state')!
  secrets.add(browser.cookie('pulse_oauth_twitch')!.value)
  const authorize = await browser.request(consent('sim_mid')(login.location!))
  secrets.add(authorize.location!.searchParams.get('code')!)
  keep(await browser.request(authorize.location!))
  secrets.add(browser.cookie('pulse_session')!.value)
  await remember()
  keep(await browser.request(`${PUBLIC}/auth/me`))

  // Tokens handed out, refreshed on expiry and on rejection, validated, then revoked and unlinked.
  const userId = (await auth.db.selectFrom('connections').select('user_id').executeTakeFirstOrThrow()).user_id
  const first = await requestToken({ userId, provider: 'twitch' })
  sim.control.advanceClock(5 * 3_600_000)
  await requestToken({ userId, provider: 'twitch' })
  await remember()
  const current = await requestToken({ userId, provider: 'twitch' })
  await requestToken({ userId, provider: 'twitch', rejectedAccessToken: current.ok ? current.accessToken : '' })
  await remember()
  await auth.inner.twitchValidator.runRound()
  keep(await browser.request(`${PUBLIC}/auth/connections/twitch`, { method: 'DELETE' }))
  t.ok(first.ok, 'tokens were handed out')

  // A second user whose grant Twitch revokes: validation, a refused refresh, invalidation.
  const second = new Browser(auth, '198.51.100.99')
  keep(await second.request(`${PUBLIC}/auth/twitch/login`))
  await second.navigate(`${PUBLIC}/auth/twitch/login`, consent('sim_new'))
  await remember()
  sim.control.revokeGrant('twitch', 'sim_new')
  await auth.inner.twitchValidator.runRound()
  keep(await second.request(`${PUBLIC}/auth/me`))

  // X: signed in, token handed out, rejected (invalidated), connected again, unlinked.
  const xBrowser = new Browser(auth, '198.51.100.98')
  const xLogin = await xBrowser.request(`${PUBLIC}/auth/twitter/login`)
  keep(xLogin)
  // The request token travels in the authenticate URL by design; it must stay out of logs and events.
  const xRequestToken = xLogin.location!.searchParams.get('oauth_token')!
  secrets.add(xBrowser.cookie('pulse_oauth_twitter')!.value)
  const xAuthorize = await xBrowser.request(consent('sim_big')(xLogin.location!))
  secrets.add(xAuthorize.location!.searchParams.get('oauth_verifier')!)
  keep(await xBrowser.request(xAuthorize.location!))
  const xUser = (await auth.db.selectFrom('connections').select('user_id').where('provider', '=', 'twitter').executeTakeFirstOrThrow()).user_id
  const xReply = await auth.inner.tokens.handle({ userId: xUser, provider: 'twitter' })
  if (!xReply.ok) throw new Error('no X token')
  secrets.add(xReply.accessToken)
  secrets.add(xReply.tokenSecret!)
  secrets.add(auth.config.TWITTER_API_SECRET)
  await requestToken({ userId: xUser, provider: 'twitter', rejectedAccessToken: xReply.accessToken })
  keep(await xBrowser.request(`${PUBLIC}/auth/me`))
  keep(await xBrowser.request(`${PUBLIC}/auth/connections/twitter`, { method: 'DELETE' }))

  t.ok(await eventually(async () => (await auth.events()).length >= 7), 'linked, unlinked, linked, invalidated; X linked, invalidated, unlinked')
  const events = JSON.stringify(await auth.events())
  const logs = auth.lines.join('')
  t.ok(auth.lines.length > 20, `the flow was logged (${auth.lines.length} lines)`)
  t.match(logs, /"url":"\/auth\/twitch\/callback\?code=%5Bredacted%5D/, 'callback URLs are logged without their code')
  t.ok(secrets.size >= 13, `${secrets.size} secrets collected`)
  t.notOk(logs.includes(state) || events.includes(state), 'the state is not in the logs or events')
  t.notOk(logs.includes(xRequestToken) || events.includes(xRequestToken), 'the X request token is not in the logs or events')
  for (const secret of secrets) {
    for (const [where, text] of [['logs', logs], ['responses', responses.join('\n')], ['events', events]] as const) {
      t.notOk(text.includes(secret) || text.includes(encodeURIComponent(secret)), `a ${secret.length}-character secret is not in the ${where}`)
    }
  }
})
