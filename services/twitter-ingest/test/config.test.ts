import t from 'tap'
import { loadTwitterIngestConfig } from '../src/config.js'

const production = { NODE_ENV: 'production', IDENTITY_SECRET: 'a-production-identity-secret-of-32-chars-or-more' }

t.test('production refuses the simulator\'s X app and names both settings', async (t) => {
  t.throws(() => loadTwitterIngestConfig(production), /TWITTER_API_KEY still has the simulator's value[\s\S]*TWITTER_API_SECRET/)
  t.doesNotThrow(() => loadTwitterIngestConfig({ ...production, TWITTER_API_KEY: 'realclientid', TWITTER_API_SECRET: 'a-real-app-secret-of-at-least-32-characters' }))
})

t.test('settings are validated and named when wrong', async (t) => {
  t.throws(() => loadTwitterIngestConfig({ TWITTER_REFRESH_INTERVAL_S: '10' }), /TWITTER_REFRESH_INTERVAL_S/)
  t.throws(() => loadTwitterIngestConfig({ TWITTER_API_URL: 'not a url' }), /TWITTER_API_URL/)
  t.throws(() => loadTwitterIngestConfig({ TWITTER_LIST_PAGE_SIZE_DEFAULT: '200' }), /TWITTER_LIST_PAGE_SIZE_DEFAULT/)
  const defaults = loadTwitterIngestConfig({})
  t.equal(defaults.PORT, 3005)
  t.equal(defaults.TWITTER_REFRESH_INTERVAL_S, 900)
  t.equal(defaults.TWITTER_API_URL, 'https://api.x.com')
  t.equal(defaults.TWITTER_MAX_POSTS, 500)
  t.throws(() => loadTwitterIngestConfig({ TWITTER_MAX_POSTS: '5000' }), /TWITTER_MAX_POSTS/, 'never past the 3,200-post horizon')
})
