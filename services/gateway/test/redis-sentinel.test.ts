import t from 'tap'
import { RedisSentinelSet, eventually } from '@pulse/testing'
import { Browser, startStack, type BrowserResponse } from './helper.js'

// Redis through Sentinel: a real primary, replica and three Sentinels (their own processes), the
// gateway and auth pointed at the Sentinels only. The primary is killed with SIGKILL while logged-in
// traffic runs; Sentinel promotes the replica and both services follow it without a restart.
const COMMAND_TIMEOUT_MS = 300
/** The setting plus a margin for a loaded machine: no request may wait for the failover itself. */
const BOUND_MS = COMMAND_TIMEOUT_MS + 3000
const DOWN_AFTER_MS = 1000

t.test('Redis failover through Sentinel: sessions written before it survive, requests during it answer 503 fast, no restart', async (t) => {
  const set = await RedisSentinelSet.start(t, { downAfterMs: DOWN_AFTER_MS })
  const redis = { REDIS_SENTINELS: set.sentinels, REDIS_SENTINEL_NAME: set.name, REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) }
  const stack = await startStack(t, { gatewayEnv: { ...redis, SESSION_CACHE_MS: '0', RATE_LIMIT_SYNC_MS: '20' }, authEnv: redis })

  const ada = new Browser(stack.gatewayUrl)
  t.equal((await ada.fetch('/auth/register', { method: 'POST', body: { username: 'ada', password: 'a fine password' } })).status, 201)
  const grace = new Browser(stack.gatewayUrl)
  t.equal((await grace.fetch('/auth/register', { method: 'POST', body: { username: 'grace', password: 'another fine password' } })).status, 201)
  t.equal((await ada.fetch('/mood/whoami')).status, 200)
  // Replication is asynchronous: what the replica has is what a failover keeps.
  await set.waitForReplication()

  const timed = async (browser: Browser, path: string) => {
    const start = Date.now()
    const res = await Promise.race([
      browser.fetch(path),
      new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`${path} hangs`)), 20_000).unref())
    ])
    return { res, ms: Date.now() - start }
  }
  const seen: { res: BrowserResponse, ms: number }[] = []
  let stop = false
  // Logged-in traffic from both users, before, during and after the failover.
  const traffic = Promise.all([ada, grace].map(async (browser) => {
    while (!stop) seen.push(await timed(browser, '/mood/whoami'))
  }))

  const oldPrimary = await set.killPrimary()
  const failedOver = await eventually(async () => (await set.primaryPort().catch(() => oldPrimary)) !== oldPrimary, 30_000, 100)
  t.ok(failedOver, 'the Sentinels promote the replica')
  const served = seen.length
  t.ok(await eventually(() => seen.slice(served).some(({ res }) => res.status === 200), 15_000), 'logged-in requests are served again by the new primary')
  stop = true
  await traffic

  const statuses = new Set(seen.map(({ res }) => res.status))
  t.same([...statuses].filter((s) => s !== 200 && s !== 503), [], `only 200 or 503 while the primary was lost (saw ${[...statuses].join(', ')})`)
  const unavailable = seen.filter(({ res }) => res.status === 503)
  t.ok(unavailable.length > 0, `the failover was seen: ${unavailable.length} of ${seen.length} requests answered 503`)
  const misshapen = unavailable.filter(({ res }) => res.json?.code !== 'GATEWAY_SESSION_UNAVAILABLE' || res.json?.statusCode !== 503)
  t.same(misshapen.map(({ res }) => res.json), [], 'each 503 is GATEWAY_SESSION_UNAVAILABLE in the error shape')
  t.ok(unavailable.every(({ res }) => res.headers.get('retry-after') !== null), 'each 503 says when to retry')
  const slowest = Math.max(...seen.map(({ ms }) => ms))
  t.ok(slowest < BOUND_MS, `no request waited for the failover (slowest ${slowest} ms, bound ${BOUND_MS} ms)`)

  // Both sessions were replicated before the primary died: no one has to log in again.
  t.equal((await ada.fetch('/auth/me')).json.user?.username, 'ada', 'auth reads the session from the new primary')
  t.equal((await grace.fetch('/mood/whoami')).status, 200)
  // Writes go to the new primary: a new login, a logout that sticks.
  const linus = new Browser(stack.gatewayUrl)
  t.equal((await linus.fetch('/auth/register', { method: 'POST', body: { username: 'linus', password: 'yet another password' } })).status, 201)
  t.equal((await linus.fetch('/mood/whoami')).status, 200, 'a session written after the failover works')
  const replay = new Browser(stack.gatewayUrl)
  replay.setCookie('pulse_session', grace.cookie('pulse_session')!)
  t.equal((await grace.fetch('/auth/logout', { method: 'POST' })).status, 204)
  t.equal((await replay.fetch('/mood/whoami')).status, 401, 'a logout after the failover deletes the session on the new primary')
  t.equal((await ada.fetch('/ready')).status, 200, 'the gateway is ready again without a restart')
})
