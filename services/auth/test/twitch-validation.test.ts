import { ConnectionInvalidatedV1 } from '@pulse/contracts'
import t from 'tap'
import { releaseLease, tryTakeLease } from '../src/repositories/leases.js'
import { signIn, type Browser } from './browser.js'
import { TEST_PUBLIC_URL, build, callsTo, eventually, startSim } from './helper.js'

const sim = await startSim(t)
const VALIDATE = 'GET /oauth2/validate'

t.test('the validation round marks a revoked grant invalid, announces it, and /auth/me shows it; valid grants stay', async (t) => {
  const auth = await build(t, {}, { sim })
  const { browser: revoked } = await signIn(auth, 'twitch', 'sim_new')
  const { browser: kept } = await signIn(auth, 'twitch', 'sim_mid')
  sim.control.revokeGrant('twitch', 'sim_new')
  const validations = callsTo(sim, VALIDATE)

  const round = await auth.inner.twitchValidator.runRound()
  t.match(round, { ran: true, checked: 2, refreshed: 0, invalidated: 1, skipped: 0 })
  t.equal(callsTo(sim, VALIDATE), validations + 2, 'every active token validated')

  const me = async (browser: Browser) => JSON.parse((await browser.request(`${TEST_PUBLIC_URL}/auth/me`)).body).user.connections
  t.match(await me(revoked), [{ provider: 'twitch', providerLogin: 'sim_new', status: 'invalid' }])
  t.match(await me(kept), [{ provider: 'twitch', providerLogin: 'sim_mid', status: 'active' }])
  t.ok(await eventually(async () => (await auth.events(ConnectionInvalidatedV1.subject)).length === 1))
  const userId = (await auth.db.selectFrom('connections').select('user_id').where('provider_login', '=', 'sim_new').executeTakeFirstOrThrow()).user_id
  t.match((await auth.events(ConnectionInvalidatedV1.subject))[0], { userId, provider: 'twitch', reason: 'refresh_rejected' })

  const next = await auth.inner.twitchValidator.runRound()
  t.match(next, { ran: true, checked: 1 }, 'invalid connections are not validated again')
})

t.test('a token /validate refuses because it expired is refreshed, not invalidated', async (t) => {
  const auth = await build(t, {}, { sim })
  await signIn(auth, 'twitch', 'sim_big')
  sim.control.advanceClock(5 * 3_600_000)
  const refreshes = callsTo(sim, 'POST /oauth2/token')
  t.match(await auth.inner.twitchValidator.runRound(), { ran: true, checked: 1, refreshed: 1, invalidated: 0 })
  t.equal(callsTo(sim, 'POST /oauth2/token'), refreshes + 1)
  t.match(await auth.db.selectFrom('connections').selectAll().executeTakeFirstOrThrow(), { status: 'active' })
})

t.test('Twitch unreachable: the token is skipped this round, not invalidated', async (t) => {
  const auth = await build(t, {}, { sim })
  await signIn(auth, 'twitch', 'sim_mid')
  sim.control.failNext(VALIDATE, 1, 503)
  t.match(await auth.inner.twitchValidator.runRound(), { ran: true, checked: 1, skipped: 1, invalidated: 0 })
  t.match(await auth.db.selectFrom('connections').selectAll().executeTakeFirstOrThrow(), { status: 'active' })
})

t.test('one round at a time across replicas: a round is skipped while another holds the lock', async (t) => {
  const auth = await build(t, {}, { sim })
  await signIn(auth, 'twitch', 'sim_mid')
  // Another replica's round in progress: it holds the round's lease.
  const other = await tryTakeLease(auth.db, 'twitch-validate-round', 60_000)
  t.ok(other !== undefined)
  const validations = callsTo(sim, VALIDATE)
  t.match(await auth.inner.twitchValidator.runRound(), { ran: false, checked: 0 }, 'skipped while held')
  t.equal(callsTo(sim, VALIDATE), validations)
  await releaseLease(auth.db, other!)
  t.match(await auth.inner.twitchValidator.runRound(), { ran: true, checked: 1 }, 'runs once released')
})

t.test('the schedule: a round at start-up, then one per interval for all replicas together', async (t) => {
  const a = await build(t, { TWITCH_VALIDATE_INTERVAL_S: '3600' }, { sim })
  t.ok(await eventually(async () => (await a.db.selectFrom('job_runs').selectAll().where('name', '=', 'twitch-validate').executeTakeFirst()) !== undefined),
    'the first replica claimed a round at start-up')
  await signIn(a, 'twitch', 'sim_mid')
  const b = await build(t, { DATABASE_URL: a.config.DATABASE_URL, TWITCH_VALIDATE_INTERVAL_S: '3600' }, { sim })
  const validations = callsTo(sim, VALIDATE)
  t.equal(await b.inner.twitchValidator.tick(), undefined, 'another replica within the interval does not run one')
  t.equal(await a.inner.twitchValidator.tick(), undefined, 'nor does the first one again')
  t.equal(callsTo(sim, VALIDATE), validations)
  await a.db.updateTable('job_runs').set({ last_started_at: new Date(Date.now() - 3600_000) }).execute()
  const [ranA, ranB] = await Promise.all([a.inner.twitchValidator.tick(), b.inner.twitchValidator.tick()])
  t.equal([ranA, ranB].filter((r) => r !== undefined).length, 1, 'once the interval has passed, exactly one replica runs the round')
  t.equal(callsTo(sim, VALIDATE), validations + 1)
})

t.test('a tiny interval: the scheduler itself validates and invalidates without being called', async (t) => {
  const auth = await build(t, { TWITCH_VALIDATE_INTERVAL_S: '1' }, { sim })
  await signIn(auth, 'twitch', 'sim_chatty')
  sim.control.revokeGrant('twitch', 'sim_chatty')
  t.ok(await eventually(async () => (await auth.db.selectFrom('connections').select('status').executeTakeFirstOrThrow()).status === 'invalid', 10_000),
    'marked invalid by a scheduled round')
  t.ok(await eventually(async () => (await auth.events(ConnectionInvalidatedV1.subject)).length === 1))
})
