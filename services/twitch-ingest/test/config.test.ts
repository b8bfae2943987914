import t from 'tap'
import { loadTwitchIngestConfig } from '../src/config.js'

const production = { NODE_ENV: 'production', IDENTITY_SECRET: 'a-production-identity-secret-of-32-chars-or-more' }

t.test('production refuses the simulator\'s Twitch app and names both settings', async (t) => {
  t.throws(() => loadTwitchIngestConfig(production), /TWITCH_CLIENT_ID still has the simulator's value[\s\S]*TWITCH_CLIENT_SECRET/)
  t.doesNotThrow(() => loadTwitchIngestConfig({ ...production, TWITCH_CLIENT_ID: 'realclientid', TWITCH_CLIENT_SECRET: 'a-real-app-secret-of-at-least-32-characters' }))
})

t.test('settings are validated and named when wrong', async (t) => {
  t.throws(() => loadTwitchIngestConfig({ TWITCH_REFRESH_INTERVAL_S: '10' }), /TWITCH_REFRESH_INTERVAL_S/)
  t.throws(() => loadTwitchIngestConfig({ TWITCH_API_URL: 'not a url' }), /TWITCH_API_URL/)
  t.throws(() => loadTwitchIngestConfig({ TWITCH_LIST_PAGE_SIZE_DEFAULT: '200' }), /TWITCH_LIST_PAGE_SIZE_DEFAULT/)
  const defaults = loadTwitchIngestConfig({})
  t.equal(defaults.PORT, 3004)
  t.equal(defaults.TWITCH_REFRESH_INTERVAL_S, 900)
  t.equal(defaults.TWITCH_API_URL, 'https://api.twitch.tv/helix')
  t.equal(defaults.TWITCH_AUTH_URL, 'https://id.twitch.tv/oauth2')
})
