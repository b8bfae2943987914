import t from 'tap'
import { frontendRedirect, safeReturnPath } from '../src/oauth/return-to.js'
import { redactUrl } from '../src/server-options.js'

const FRONT = 'https://pulse.example'

t.test('same-origin paths are kept with their query and fragment', async (t) => {
  t.equal(safeReturnPath('/', FRONT), '/')
  t.equal(safeReturnPath('/settings/connections?tab=twitch#x', FRONT), '/settings/connections?tab=twitch#x')
  t.equal(safeReturnPath('/a/../b', FRONT), '/b', 'normalised as the browser would')
  t.equal(safeReturnPath('/%2F%2Fevil.example', FRONT), '/%2F%2Fevil.example', 'an encoded slash stays a path on this origin')
})

t.test('anything that could leave the origin is ignored', async (t) => {
  for (const value of [
    '//evil.example', '/\\evil.example', '\\\\evil.example', 'https://evil.example/x', 'http:evil.example', 'evil.example', 'javascript:alert(1)',
    '/\t/evil.example', '/\n/evil.example', '/\r\n/evil.example', ' /x', '', 'x'.repeat(10), `/${'x'.repeat(3000)}`, undefined, 42, ['/a']
  ]) t.equal(safeReturnPath(value, FRONT), undefined, JSON.stringify(value))
})

t.test('the redirect goes to returnTo or the front end, with the error when there is one', async (t) => {
  t.equal(frontendRedirect(FRONT, '/settings?tab=x'), 'https://pulse.example/settings?tab=x')
  t.equal(frontendRedirect(FRONT, undefined), 'https://pulse.example/')
  t.equal(frontendRedirect(FRONT, '/settings?tab=x#top', 'invalid_state'), 'https://pulse.example/settings?tab=x&error=invalid_state#top')
  t.equal(frontendRedirect('https://pulse.example/app/', undefined, 'twitch_denied'), 'https://pulse.example/app/?error=twitch_denied')
})

t.test('logged URLs lose the values of OAuth parameters, and only those', async (t) => {
  t.equal(redactUrl('/auth/twitch/callback?code=abc&state=def&scope=a+b'), '/auth/twitch/callback?code=%5Bredacted%5D&state=%5Bredacted%5D&scope=a+b')
  t.equal(redactUrl('/auth/twitter/callback?oauth_token=t&oauth_verifier=v'), '/auth/twitter/callback?oauth_token=%5Bredacted%5D&oauth_verifier=%5Bredacted%5D')
  t.equal(redactUrl('/auth/twitter/callback?denied=t'), '/auth/twitter/callback?denied=%5Bredacted%5D')
  t.equal(redactUrl('/auth/me'), '/auth/me')
  t.equal(redactUrl('/auth/twitch/login?returnTo=/x'), '/auth/twitch/login?returnTo=/x')
})
