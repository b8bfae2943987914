import t from 'tap'
import { json, startSim, xGet, xLogin } from './helpers.js'

interface Page { data?: Array<{ id: string, text: string, created_at?: string, public_metrics?: Record<string, number> }>, meta: { result_count: number, next_token?: string, newest_id?: string, oldest_id?: string } }

t.test('X API v2', async (t) => {
  const sim = await startSim(t)
  const big = await xLogin(sim, 'sim_big')
  const expectedBig = sim.control.expectedTwitter('sim_big')

  const walk = async (userId: string, query = '&tweet.fields=public_metrics,created_at') => {
    const pages: Page[] = []
    let token: string | undefined
    do {
      const res = await xGet(sim, `/2/users/${userId}/tweets?max_results=100${query}${token === undefined ? '' : `&pagination_token=${token}`}`, big)
      if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`)
      const page = await json(res) as Page
      pages.push(page)
      token = page.meta.next_token
    } while (token !== undefined && pages.length < 100)
    return pages
  }

  t.test('/2/users/me is {id, name, username} by default and adds public_metrics when asked', async (t) => {
    const plain = await json(await xGet(sim, '/2/users/me', big))
    t.same(Object.keys(plain.data).sort(), ['id', 'name', 'username'])
    t.equal(plain.data.username, 'sim_big')
    const res = await xGet(sim, '/2/users/me?user.fields=public_metrics,created_at,description,verified', big)
    const { data } = await json(res)
    t.same(data.public_metrics, {
      followers_count: expectedBig.followers, following_count: expectedBig.following, tweet_count: expectedBig.posts, listed_count: expectedBig.listed, like_count: expectedBig.likes
    })
    t.match(data, { id: expectedBig.userId, created_at: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, verified: true })
  })

  t.test('the timeline pages with max_results and next_token, newest first, with public_metrics', async (t) => {
    const pages = await walk(expectedBig.userId)
    const posts = pages.flatMap((p) => p.data ?? [])
    t.equal(posts.length, expectedBig.posts, 'every post once (sim_big has fewer than 3,200)')
    t.equal(new Set(posts.map((p) => p.id)).size, posts.length)
    const ids = posts.map((p) => BigInt(p.id))
    t.ok(ids.every((id, i) => i === 0 || id < ids[i - 1]!), 'newest first')
    t.same(Object.keys(posts[0]!.public_metrics!).sort(), ['bookmark_count', 'impression_count', 'like_count', 'quote_count', 'reply_count', 'retweet_count'])
    t.match(posts[0], { edit_history_tweet_ids: [posts[0]!.id], created_at: /Z$/ })
    const lastPage = pages[pages.length - 1]!
    t.notOk('next_token' in lastPage.meta, 'no next_token on the last page')
    t.match(pages[0]!.meta, { result_count: 100, newest_id: posts[0]!.id, oldest_id: posts[99]!.id, next_token: /^[0-9a-z]+$/ })
  })

  t.test('only the newest 3,200 posts can be reached', async (t) => {
    const chatty = sim.control.expectedTwitter('sim_chatty')
    t.ok(chatty.posts > 3200, 'sim_chatty has written more than 3,200')
    const posts = (await walk(chatty.userId, '')).flatMap((p) => p.data ?? [])
    t.equal(posts.length, 3200)
  })

  t.test('an empty timeline answers without a data key', async (t) => {
    const none = sim.control.expectedTwitter('sim_new')
    t.equal(none.posts, 0)
    const res = await xGet(sim, `/2/users/${none.userId}/tweets?max_results=10`, big)
    t.equal(res.status, 200)
    t.same(await json(res), { meta: { result_count: 0 } })
  })

  t.test('max_results outside 5..100 is an invalid-request problem', async (t) => {
    for (const value of ['4', '101', 'ten']) {
      const res = await xGet(sim, `/2/users/${expectedBig.userId}/tweets?max_results=${value}`, big)
      t.equal(res.status, 400, value)
      t.match(res.headers.get('content-type'), /^application\/problem\+json/)
      t.match(await json(res), { title: 'Invalid Request', type: 'https://api.twitter.com/2/problems/invalid-request', errors: [{ parameters: { max_results: [value] } }] })
    }
  })

  t.test('an unknown field name is refused', async (t) => {
    const res = await xGet(sim, '/2/users/me?user.fields=public_metrics,shoe_size', big)
    t.equal(res.status, 400)
    t.match(await json(res), { errors: [{ parameters: { 'user.fields': ['shoe_size'] } }] })
  })

  t.test('an unknown user is a 200 carrying only errors', async (t) => {
    const res = await xGet(sim, '/2/users/12345/tweets?max_results=5', big)
    t.equal(res.status, 200)
    const body = await json(res)
    t.notOk('data' in body)
    t.match(body.errors, [{ title: 'Not Found Error', resource_type: 'user', resource_id: '12345', type: 'https://api.twitter.com/2/problems/resource-not-found' }])
  })

  t.test('users/:id and users/by/username agree with users/me', async (t) => {
    const byId = await json(await xGet(sim, `/2/users/${expectedBig.userId}?user.fields=public_metrics`, big))
    const byName = await json(await xGet(sim, '/2/users/by/username/sim_big?user.fields=public_metrics', big))
    t.same(byId, byName)
    t.equal(byId.data.public_metrics.followers_count, expectedBig.followers)
  })

  t.test('start_time, since_id and exclude narrow the timeline', async (t) => {
    const first = await json(await xGet(sim, `/2/users/${expectedBig.userId}/tweets?max_results=20&tweet.fields=created_at`, big)) as Page
    const tenth = first.data![9]!
    const since = await json(await xGet(sim, `/2/users/${expectedBig.userId}/tweets?max_results=100&since_id=${tenth.id}`, big)) as Page
    t.equal(since.meta.result_count, 9, 'since_id is exclusive')
    const start = await json(await xGet(sim, `/2/users/${expectedBig.userId}/tweets?max_results=100&start_time=${tenth.created_at}`, big)) as Page
    t.equal(start.meta.result_count, 10, 'start_time is inclusive')
    const noReplies = await json(await xGet(sim, `/2/users/${expectedBig.userId}/tweets?max_results=100&exclude=replies,retweets`, big)) as Page
    t.notOk(noReplies.data!.some((p) => p.text.startsWith('@') || p.text.startsWith('RT @')))
  })

  t.test('every answer carries x-rate-limit headers', async (t) => {
    const res = await xGet(sim, '/2/users/me', big)
    t.equal(res.headers.get('x-rate-limit-limit'), '75')
    t.match(res.headers.get('x-rate-limit-remaining'), /^\d+$/)
    t.ok(Number(res.headers.get('x-rate-limit-reset')) * 1000 > sim.control.now())
    const timeline = await xGet(sim, `/2/users/${expectedBig.userId}/tweets?max_results=5`, big)
    t.equal(timeline.headers.get('x-rate-limit-limit'), '900')
  })

  t.test('an unsigned request is a 401 problem', async (t) => {
    const res = await fetch(`${sim.twitterApiUrl}/2/users/me`)
    t.equal(res.status, 401)
    t.match(res.headers.get('content-type'), /^application\/problem\+json/)
    t.same(await json(res), { title: 'Unauthorized', detail: 'Unauthorized', type: 'about:blank', status: 401 })
  })
})

t.test('with the post naming of OpenAPI 2.167 the wire names change', async (t) => {
  const sim = await startSim(t, { xNaming: 'post' })
  const access = await xLogin(sim, 'sim_mid')
  const me = await json(await xGet(sim, '/2/users/me?user.fields=public_metrics', access))
  t.ok('post_count' in me.data.public_metrics)
  t.notOk('tweet_count' in me.data.public_metrics)
  const posts = await json(await xGet(sim, `/2/users/${access.userId}/tweets?max_results=5&post.fields=public_metrics`, access))
  t.ok('repost_count' in posts.data[0].public_metrics)
  t.ok('edit_history_post_ids' in posts.data[0])
  const legacy = await json(await xGet(sim, `/2/users/${access.userId}/tweets?max_results=5&tweet.fields=public_metrics`, access))
  t.ok('repost_count' in legacy.data[0].public_metrics, 'tweet.fields is still accepted')
})
