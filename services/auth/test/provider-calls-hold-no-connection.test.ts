import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { signIn } from './browser.js'
import { TEST_PUBLIC_URL, build, eventually, giveAPassword, startSim } from './helper.js'

const sim = await startSim(t)

/**
 * Twitch's identity service as auth reaches it, in front of the simulator: calls to a held path
 * wait until the test lets them through, so a provider call is in flight for as long as the test
 * needs, whatever the machine's speed.
 */
async function gatedTwitch () {
  const held = new Set<string>()
  const waiting: (() => void)[] = []
  const upstream = new URL(sim.twitchAuthUrl).origin
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const forward = async () => {
        const answer = await fetch(`${upstream}${req.url}`, {
          method: req.method,
          headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)) as [string, string][]),
          ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
          redirect: 'manual'
        })
        res.writeHead(answer.status, Object.fromEntries(answer.headers))
        res.end(Buffer.from(await answer.arrayBuffer()))
      }
      const path = new URL(req.url ?? '/', 'http://x').pathname
      if (held.has(path)) waiting.push(() => { void forward() })
      else void forward()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}${new URL(sim.twitchAuthUrl).pathname}`,
    hold: (path: string) => held.add(path),
    waiting: () => waiting.length,
    release: () => { held.clear(); for (const go of waiting.splice(0)) go() }
  }
}

t.test('a provider call in flight holds no database connection: with a pool of one, other requests still get it', async (t) => {
  const twitch = await gatedTwitch()
  const auth = await build(t, {
    DATABASE_POOL_MAX: '1',
    DATABASE_CONNECT_TIMEOUT_MS: '3000',
    TWITCH_AUTH_URL: twitch.url,
    TWITCH_BROWSER_AUTH_URL: sim.twitchAuthUrl
  }, { sim })
  const refreshing = await signIn(auth, 'twitch', 'sim_mid')
  const unlinking = await signIn(auth, 'twitch', 'sim_big')
  await giveAPassword(auth, unlinking.userId)
  const me = async () => (await refreshing.browser.request(`${TEST_PUBLIC_URL}/auth/me`)).status

  // A refresh (the caller reports the token rejected) and an unlink (revoke), both stuck at Twitch.
  twitch.hold('/oauth2/token')
  twitch.hold('/oauth2/revoke')
  const current = await auth.inner.tokens.handle({ userId: refreshing.userId, provider: 'twitch' })
  if (!current.ok) throw new Error('no token')
  const refresh = auth.inner.tokens.handle({ userId: refreshing.userId, provider: 'twitch', rejectedAccessToken: current.accessToken })
  const unlink = unlinking.browser.request(`${TEST_PUBLIC_URL}/auth/connections/twitch`, { method: 'DELETE' })
  t.ok(await eventually(() => twitch.waiting() === 2, 20_000), 'both calls are waiting at Twitch')

  t.equal(await me(), 200, 'a request that needs the database is answered meanwhile')
  const registered = await auth.app.inject({ method: 'POST', url: '/auth/register', headers: auth.from('192.0.2.5'), payload: { username: 'meanwhile', password: 'a long enough password' } })
  t.equal(registered.statusCode, 201, 'and one that writes')

  twitch.release()
  const refreshed = await refresh
  t.ok(refreshed.ok && refreshed.accessToken !== current.accessToken, 'the refresh completes with a new token')
  t.equal((await unlink).status, 204, 'the unlink completes')
  t.equal(await me(), 200)
})
