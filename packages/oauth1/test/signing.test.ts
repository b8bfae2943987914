import { createHmac } from 'node:crypto'
import t from 'tap'
import {
  baseStringUri, generateNonce, hmacSha1Signature, normalizeParameters, parseFormEncoded, percentEncode, signRequest,
  signRequestDetails, signatureBaseString, signingKey
} from '../src/index.js'

/** X's worked example, "Creating a signature" (docs/providers.md §2.3). */
const EXAMPLE = {
  method: 'POST',
  params: { status: 'Hello Ladies + Gentlemen, a signed OAuth request!' },
  consumerKey: 'xvz1evFS4wEEPTGEFPHBog',
  consumerSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
  token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
  tokenSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
  nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
  timestamp: 1318622958
}

/** Parses `OAuth k="v", …` back into decoded pairs. */
function headerParams (header: string): Record<string, string> {
  t.match(header, /^OAuth /)
  return Object.fromEntries(header.slice(6).split(', ').map((part) => {
    const m = /^([^=]+)="([^"]*)"$/.exec(part)
    if (m === null) throw new Error(`bad header part ${part}`)
    return [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)]
  }))
}

t.test('X\'s worked example: exact parameter string, base string, key and signature', async (t) => {
  const signed = signRequestDetails({ ...EXAMPLE, url: 'https://api.x.com/1.1/statuses/update.json?include_entities=true' })
  t.equal(signed.baseString,
    'POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521')
  t.equal(signed.baseString.split('&').length, 3, 'exactly two raw & in the base string')
  t.equal(signingKey(EXAMPLE.consumerSecret, EXAMPLE.tokenSecret), 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw&LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE')
  t.equal(signed.signature, 'Ls93hJiZbQ3akF3HF3x1Bz8/zU4=')
  t.equal(Buffer.from(signed.signature, 'base64').toString('hex').toUpperCase(), '2ECF778498996D0DDA905DC7177C75073F3FCD4E', 'the HMAC bytes')
  t.match(signed.authorization, /oauth_signature="Ls93hJiZbQ3akF3HF3x1Bz8%2FzU4%3D"/, 'percent-encoded in the header')
  t.same(headerParams(signed.authorization), {
    oauth_consumer_key: EXAMPLE.consumerKey,
    oauth_nonce: EXAMPLE.nonce,
    oauth_signature: 'Ls93hJiZbQ3akF3HF3x1Bz8/zU4=',
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: '1318622958',
    oauth_token: EXAMPLE.token,
    oauth_version: '1.0'
  }, 'the seven protocol parameters and nothing else (the form and query stay out of the header)')
  t.notMatch(signed.authorization, /status|include_entities/)
  t.equal(normalizeParameters([['include_entities', 'true'], ['status', EXAMPLE.params.status], ...Object.entries(signed.oauthParams).filter(([k]) => k !== 'oauth_signature')]),
    'include_entities=true&oauth_consumer_key=xvz1evFS4wEEPTGEFPHBog&oauth_nonce=kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg&oauth_signature_method=HMAC-SHA1&oauth_timestamp=1318622958&oauth_token=370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb&oauth_version=1.0&status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21',
    'the parameter string')
})

t.test('the same example under the other base URLs of the docs', async (t) => {
  for (const [url, signature] of [
    ['https://api.twitter.com/1.1/statuses/update.json?include_entities=true', 'hCtSmYh+iHYCEqBWrE7C7hYmtUk='],
    ['https://api.twitter.com/1/statuses/update.json?include_entities=true', 'tnnArxj06cWHq44gCs1OSKk/jLY=']
  ] as const) {
    t.equal(signRequestDetails({ ...EXAMPLE, url }).signature, signature, url)
  }
  t.equal(signRequestDetails({ ...EXAMPLE, url: 'https://api.x.com/1.1/statuses/update.json', params: { ...EXAMPLE.params, include_entities: 'true' } }).signature,
    'Ls93hJiZbQ3akF3HF3x1Bz8/zU4=', 'a parameter signs the same in the query or in the form body')
  t.equal(signRequestDetails({ ...EXAMPLE, url: 'https://api.x.com/1.1/statuses/update.json?include_entities=true', params: new URLSearchParams(EXAMPLE.params) }).signature,
    'Ls93hJiZbQ3akF3HF3x1Bz8/zU4=', 'form parameters as URLSearchParams')
})

t.test('RFC 3986 percent-encoding', async (t) => {
  const cases: [string, string][] = [
    ['Ladies + Gentlemen', 'Ladies%20%2B%20Gentlemen'],
    ['An encoded string!', 'An%20encoded%20string%21'],
    ['Dogs, Cats & Mice', 'Dogs%2C%20Cats%20%26%20Mice'],
    ['☃', '%E2%98%83'],
    ['😀', '%F0%9F%98%80'],
    ["!*'()", '%21%2A%27%28%29'],
    ['ABCXYZabcxyz0189-._~', 'ABCXYZabcxyz0189-._~'],
    ['%/=?&#:@+$,;[] "<>\\^`{|}', '%25%2F%3D%3F%26%23%3A%40%2B%24%2C%3B%5B%5D%20%22%3C%3E%5C%5E%60%7B%7C%7D'],
    ['é', '%C3%A9'],
    ['', '']
  ]
  for (const [input, expected] of cases) t.equal(percentEncode(input), expected, JSON.stringify(input))
  t.notMatch(percentEncode('a\u00ff\u0100z'), /%[0-9a-f]*[a-f]/, 'hex is upper-case')
})

t.test('parameters: query and form signed, names then values sorted by encoded bytes, the + of a query decoded as a space', async (t) => {
  t.equal(normalizeParameters([['b', '2'], ['a', 'z'], ['a', 'b'], ['A', '1'], ['a', ' ']]), 'A=1&a=%20&a=b&a=z&b=2')
  t.equal(normalizeParameters([['c@', 'x'], ['a2', 'r b'], ['a3', 'a'], ['a3', '2 q'], ['b5', '=%3D'], ['c2', '']]),
    'a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=x&c2=', 'RFC 5849 §3.4.1.3.2\'s example ordering')
  const base = signatureBaseString('get', 'https://api.x.com/2/users/me?user.fields=public_metrics,created_at&q=a+b%21', [['user.fields', 'public_metrics,created_at'], ['q', 'a b!']])
  t.match(base, /^GET&/, 'the method is upper-cased')
  const fromUrl = signRequestDetails({ method: 'GET', url: 'https://api.x.com/2/x?q=a+b%21&z=1', consumerKey: 'ck', consumerSecret: 'cs', nonce: 'n', timestamp: 1 })
  t.match(fromUrl.baseString, /q%3Da%2520b%2521/, 'query values decoded (+ is a space) then encoded (%20)')
  const repeated = signRequestDetails({ method: 'POST', url: 'https://api.x.com/x', params: { tag: ['b', 'a'] }, consumerKey: 'ck', consumerSecret: 'cs', nonce: 'n', timestamp: 1 })
  t.match(repeated.baseString, /tag%3Da%26tag%3Db/, 'a repeated name is signed once per value, sorted')
})

t.test('the base string URI: lower-case scheme and host, default ports dropped, other ports kept, no query or fragment', async (t) => {
  t.equal(baseStringUri('HTTPS://API.X.COM:443/1.1/Path?x=1#frag'), 'https://api.x.com/1.1/Path')
  t.equal(baseStringUri('http://example.com:80/r%20v/X?id=123'), 'http://example.com/r%20v/X')
  t.equal(baseStringUri('http://127.0.0.1:3100/oauth/request_token'), 'http://127.0.0.1:3100/oauth/request_token')
  t.equal(baseStringUri('https://example.com'), 'https://example.com/')
})

t.test('request_token and access_token steps: the key ends with & without a token secret; callback and verifier are signed protocol parameters', async (t) => {
  const signed = signRequestDetails({ method: 'POST', url: 'https://api.x.com/oauth/request_token', consumerKey: 'ck', consumerSecret: 'c s', callback: 'https://pulse.example/auth/twitter/callback?x=1' })
  t.equal(signingKey('c s'), 'c%20s&')
  t.equal(signed.signature, createHmac('sha1', 'c%20s&').update(signed.baseString).digest('base64'))
  t.match(signed.baseString, /oauth_callback%3Dhttps%253A%252F%252Fpulse\.example%252Fauth%252Ftwitter%252Fcallback%253Fx%253D1/)
  t.equal(headerParams(signed.authorization).oauth_callback, 'https://pulse.example/auth/twitter/callback?x=1')
  t.notOk('oauth_token' in headerParams(signed.authorization), 'no empty oauth_token')
  const access = headerParams(signRequest({ method: 'POST', url: 'https://api.x.com/oauth/access_token', consumerKey: 'ck', consumerSecret: 'cs', token: 'rt', tokenSecret: 'rs', verifier: 'v!' }))
  t.match(access, { oauth_token: 'rt', oauth_verifier: 'v!' })
  t.equal(hmacSha1Signature('text', 'key'), createHmac('sha1', 'key').update('text').digest('base64'))
})

t.test('a fresh random nonce for every request, and the timestamp in seconds', async (t) => {
  const nonces = new Set(Array.from({ length: 200 }, () => generateNonce()))
  t.equal(nonces.size, 200)
  for (const nonce of nonces) t.match(nonce, /^[A-Za-z0-9]{32,44}$/)
  const a = headerParams(signRequest({ method: 'GET', url: 'https://api.x.com/2/users/me', consumerKey: 'ck', consumerSecret: 'cs' }))
  const b = headerParams(signRequest({ method: 'GET', url: 'https://api.x.com/2/users/me', consumerKey: 'ck', consumerSecret: 'cs' }))
  t.not(a.oauth_nonce, b.oauth_nonce)
  t.not(a.oauth_signature, b.oauth_signature)
  t.ok(Math.abs(Number(a.oauth_timestamp) - Date.now() / 1000) < 5, 'seconds, now')
  t.match(a.oauth_timestamp, /^\d{10}$/)
})

t.test('form-encoded token answers are parsed', async (t) => {
  t.same(parseFormEncoded('oauth_token=Z6eE&oauth_token_secret=Kd75%2Fx&oauth_callback_confirmed=true\n'),
    { oauth_token: 'Z6eE', oauth_token_secret: 'Kd75/x', oauth_callback_confirmed: 'true' })
})
