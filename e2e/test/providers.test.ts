import t from 'tap'
import { Browser, approveProvider, eventually, listen, startE2E } from './helper.js'

t.test('a creator connects Twitch and X on the simulator, sees their numbers live, then disconnects', async (t) => {
  const e2e = await startE2E(t)
  const creator = new Browser(e2e.gateway)
  t.equal((await creator.fetch('/auth/register', { method: 'POST', body: { username: 'streamer', password: 'a good long password' } })).status, 201)
  const events = await listen(creator)
  t.equal(events.status, 200)
  t.teardown(() => events.close())

  t.test('connect Twitch: consent on the provider, back to the dashboard, connection listed', async (t) => {
    const { answer, visited } = await approveProvider(creator, 'twitch', 'sim_mid', '/dashboard')
    t.match(visited.at(-1), /\/dashboard$/, 'lands on returnTo')
    t.notMatch(visited.at(-1), /error=/)
    void answer
    const me = await creator.fetch('/auth/me')
    t.match(me.json.user.connections, [{ provider: 'twitch', providerLogin: 'sim_mid', status: 'active' }])
  })

  t.test('the first refresh happens by itself and the overview equals the provider\'s numbers', async (t) => {
    const expected = await (await fetch(`${e2e.simulator}/_sim/expected/twitch/sim_mid`)).json() as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
    const overview = await eventually(() => creator.fetch('/twitch/overview'), (a) => a.status === 200 && a.json.capturedAt != null, 30_000)
    t.equal(overview.status, 200)
    t.equal(overview.json.followers, expected.followers)
    t.equal(overview.json.followedChannels, expected.followedChannels)
    t.same(overview.json.videos, expected.videos)
    t.ok(await eventually(async () => /event: metrics\.refreshed/.test(events.text()), (ok) => ok), '/events saw metrics.refreshed')
    const history = await creator.fetch('/twitch/history?metric=followers')
    t.equal(history.status, 200)
    t.ok(history.json.points.length >= 1)
  })

  t.test('a manual refresh is accepted, then limited', async (t) => {
    const first = await creator.fetch('/twitch/refresh', { method: 'POST' })
    t.equal(first.status, 202)
    const second = await creator.fetch('/twitch/refresh', { method: 'POST' })
    t.equal(second.status, 429)
  })

  t.test('connect X and read the overview', async (t) => {
    const { visited } = await approveProvider(creator, 'twitter', 'sim_mid', '/dashboard')
    t.match(visited.at(-1), /\/dashboard$/)
    const expected = await (await fetch(`${e2e.simulator}/_sim/expected/twitter/sim_mid`)).json() as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
    const overview = await eventually(() => creator.fetch('/twitter/overview'), (a) => a.status === 200 && a.json.capturedAt != null, 30_000)
    t.equal(overview.status, 200)
    t.equal(overview.json.followers, expected.followers)
    t.equal(overview.json.following, expected.following)
    // the posts, page by page, as the dashboard reads them
    const seen = new Set<string>()
    let cursor: string | null = null
    let pages = 0
    do {
      const page: Awaited<ReturnType<typeof creator.fetch>> = await creator.fetch(`/twitter/posts?limit=10${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      t.equal(page.status, 200)
      for (const post of page.json.items as { id: string }[]) seen.add(post.id)
      cursor = page.json.nextCursor as string | null
      pages++
    } while (cursor !== null && pages < 50)
    t.ok(pages > 1, `posts paginate past the first page (${pages} pages)`)
    t.ok(seen.size > 10, `${seen.size} distinct posts`)
  })

  t.test('disconnect: tokens revoked, data gone', async (t) => {
    t.equal((await creator.fetch('/auth/connections/twitch', { method: 'DELETE' })).status, 204)
    const gone = await eventually(() => creator.fetch('/twitch/overview'), (a) => a.status === 409)
    t.equal(gone.status, 409, 'the Twitch data is deleted')
    t.equal(gone.json.code, 'TWITCH_NOT_CONNECTED')
    t.equal((await creator.fetch('/twitter/overview')).status, 200, 'X is untouched')
    t.equal((await creator.fetch('/auth/connections/twitter', { method: 'DELETE' })).status, 204)
    t.equal((await eventually(() => creator.fetch('/twitter/overview'), (a) => a.status === 409)).status, 409)
    t.same((await creator.fetch('/auth/me')).json.user.connections, [])
  })

  t.test('sign in with Twitch as a new visitor creates the account', async (t) => {
    const visitor = new Browser(e2e.gateway)
    const { visited } = await approveProvider(visitor, 'twitch', 'sim_big', '/dashboard')
    t.notMatch(visited.at(-1), /error=/)
    const me = await visitor.fetch('/auth/me')
    t.equal(me.status, 200, 'signed in')
    t.match(me.json.user.connections, [{ provider: 'twitch', providerLogin: 'sim_big' }])
    t.equal((await visitor.fetch('/auth/logout', { method: 'POST' })).status, 204)
    t.equal((await visitor.fetch('/auth/me')).status, 401, 'logged out')
  })
})
