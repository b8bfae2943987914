import t from 'tap'
import { MAX_RETURN_TO_LENGTH, frontendRedirect, safeReturnPath } from '../src/oauth/return-to.js'

const FRONT = 'https://pulse.example'

t.test('same-origin paths are kept with their query and fragment', async (t) => {
  t.equal(safeReturnPath('/', FRONT), '/')
  t.equal(safeReturnPath('/settings/connections?tab=twitch#x', FRONT), '/settings/connections?tab=twitch#x')
  t.equal(safeReturnPath('/a/../b', FRONT), '/b', 'normalised as the browser would')
  t.equal(safeReturnPath('/%2F%2Fevil.example', FRONT), '/%2F%2Fevil.example', 'an encoded slash stays a path on this origin')
  const longest = `/${'x'.repeat(MAX_RETURN_TO_LENGTH - 1)}`
  t.equal(safeReturnPath(longest, FRONT), longest, 'a path of exactly the longest length is kept')
  t.equal(safeReturnPath(`${longest}x`, FRONT), undefined, 'one character more is not')
})

t.test('a path that names this very origin as a host is still refused: the browser would take it as a host', async (t) => {
  // These resolve back onto the front end's origin, so only the early checks refuse them; what is
  // refused is the shape, which would send the browser elsewhere with another host in its place.
  for (const value of ['//pulse.example/x', '/\\pulse.example/x', '/\t/pulse.example/x', '/\n/pulse.example/x']) {
    t.equal(safeReturnPath(value, FRONT), undefined, JSON.stringify(value))
  }
})

t.test('control characters anywhere in the path are refused, not encoded', async (t) => {
  for (const value of ['/a\u0000b', '/a\u001fb', '/a\u007fb', '/settings\r', '/a\\b']) t.equal(safeReturnPath(value, FRONT), undefined, JSON.stringify(value))
  t.equal(safeReturnPath('/a\u0020b', FRONT), '/a%20b', 'a space is not a control character: it is encoded')
  t.equal(safeReturnPath('/a~b', FRONT), '/a~b')
})

t.test('dot segments that collapse into a host-relative path are refused after normalisation', async (t) => {
  for (const value of ['/.//evil.example', '/a/..//evil.example', '/x/../..//evil.example/p?q#f', '/.//pulse.example/x']) {
    t.equal(safeReturnPath(value, FRONT), undefined, JSON.stringify(value))
  }
  t.equal(safeReturnPath('/a/.//b', FRONT), '/a//b', 'an empty segment further on stays a path')
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
  t.equal(frontendRedirect(FRONT, '//evil.example/x', 'x_denied'), 'https://pulse.example/?error=x_denied', 'a path refused lands on the front end')
  t.equal(frontendRedirect(FRONT, '/.//evil.example'), 'https://pulse.example/')
})
