import t from 'tap'
import { redactUrl } from '../src/server-options.js'

t.test('logged URLs lose the values of OAuth parameters, and only those', async (t) => {
  t.equal(redactUrl('/auth/twitch/callback?code=abc&state=def&scope=a+b'), '/auth/twitch/callback?code=%5Bredacted%5D&state=%5Bredacted%5D&scope=a+b')
  t.equal(redactUrl('/auth/twitter/callback?oauth_token=t&oauth_verifier=v'), '/auth/twitter/callback?oauth_token=%5Bredacted%5D&oauth_verifier=%5Bredacted%5D')
  t.equal(redactUrl('/auth/twitter/callback?denied=t'), '/auth/twitter/callback?denied=%5Bredacted%5D')
  t.equal(redactUrl('/auth/me'), '/auth/me')
  t.equal(redactUrl('/auth/twitch/login?returnTo=/x'), '/auth/twitch/login?returnTo=/x')
})
