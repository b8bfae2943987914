import t from 'tap'
import {
  baseStringUri, hmacSha1Signature, normalizeParameters, parseAuthorizationHeader, percentEncode, signatureBaseString, verifySignature,
  type Param
} from '../src/oauth1.js'

// X's worked example, "Creating a signature" (docs/providers.md §2.3).
const CONSUMER_SECRET = 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw'
const TOKEN_SECRET = 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE'
const PARAMS: Param[] = [
  ['status', 'Hello Ladies + Gentlemen, a signed OAuth request!'],
  ['include_entities', 'true'],
  ['oauth_consumer_key', 'xvz1evFS4wEEPTGEFPHBog'],
  ['oauth_nonce', 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg'],
  ['oauth_signature_method', 'HMAC-SHA1'],
  ['oauth_timestamp', '1318622958'],
  ['oauth_token', '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb'],
  ['oauth_version', '1.0']
]
const PARAMETER_STRING = 'include_entities=true&oauth_consumer_key=xvz1evFS4wEEPTGEFPHBog&oauth_nonce=kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg&oauth_signature_method=HMAC-SHA1&oauth_timestamp=1318622958&oauth_token=370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb&oauth_version=1.0&status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21'
const BASE_STRING = 'POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521'
const VECTORS = [
  { url: 'https://api.x.com/1.1/statuses/update.json', signature: 'Ls93hJiZbQ3akF3HF3x1Bz8/zU4=' },
  { url: 'https://api.twitter.com/1.1/statuses/update.json', signature: 'hCtSmYh+iHYCEqBWrE7C7hYmtUk=' },
  { url: 'https://api.twitter.com/1/statuses/update.json', signature: 'tnnArxj06cWHq44gCs1OSKk/jLY=' }
]

t.test('percent-encoding follows RFC 3986: !*\'() encoded, %20 for space, upper-case hex, UTF-8', async (t) => {
  t.equal(percentEncode('Ladies + Gentlemen'), 'Ladies%20%2B%20Gentlemen')
  t.equal(percentEncode('Dogs, Cats & Mice'), 'Dogs%2C%20Cats%20%26%20Mice')
  t.equal(percentEncode('☃'), '%E2%98%83')
  t.equal(percentEncode('!*\'()'), '%21%2A%27%28%29')
  t.equal(percentEncode('-._~AZaz09'), '-._~AZaz09')
  t.equal(percentEncode('/?='), '%2F%3F%3D')
})

t.test('the worked example gives X\'s parameter string, base string and signature', async (t) => {
  t.equal(normalizeParameters(PARAMS), PARAMETER_STRING)
  const base = signatureBaseString('POST', 'https://api.x.com/1.1/statuses/update.json', PARAMS)
  t.equal(base, BASE_STRING)
  t.equal(base.split('&').length, 3, 'exactly two raw ampersands')
  for (const { url, signature } of VECTORS) {
    t.equal(hmacSha1Signature(signatureBaseString('POST', url, PARAMS), CONSUMER_SECRET, TOKEN_SECRET), signature, url)
  }
})

t.test('the simulator\'s verifier accepts the worked example for each documented base URL', async (t) => {
  for (const { url, signature } of VECTORS) {
    t.ok(verifySignature({ method: 'POST', url, params: [...PARAMS, ['oauth_signature', signature]], consumerSecret: CONSUMER_SECRET, tokenSecret: TOKEN_SECRET }), url)
  }
})

t.test('the verifier rejects the worked example with any single parameter changed', async (t) => {
  const { url, signature } = VECTORS[0]!
  const accepted = (params: Param[], overrides: Partial<{ method: string, url: string, consumerSecret: string, tokenSecret: string }> = {}) =>
    verifySignature({ method: 'POST', url, params: [...params, ['oauth_signature', signature]], consumerSecret: CONSUMER_SECRET, tokenSecret: TOKEN_SECRET, ...overrides })
  t.ok(accepted(PARAMS), 'unchanged: accepted')
  for (let i = 0; i < PARAMS.length; i++) {
    const [key, value] = PARAMS[i]!
    const changedValue = PARAMS.map((p, j) => (j === i ? [key, `${value}x`] as const : p))
    t.notOk(accepted(changedValue), `${key} value changed`)
    const renamed = PARAMS.map((p, j) => (j === i ? [`${key}_`, value] as const : p))
    t.notOk(accepted(renamed), `${key} renamed`)
    t.notOk(accepted(PARAMS.filter((_, j) => j !== i)), `${key} left out`)
  }
  t.notOk(accepted([...PARAMS, ['extra', '1']]), 'a parameter added')
  t.notOk(accepted(PARAMS, { method: 'GET' }), 'method changed')
  t.notOk(accepted(PARAMS, { url: 'https://api.x.com/1.1/statuses/update.jsonx' }), 'URL changed')
  t.notOk(accepted(PARAMS, { consumerSecret: `${CONSUMER_SECRET}x` }), 'consumer secret changed')
  t.notOk(accepted(PARAMS, { tokenSecret: '' }), 'token secret changed')
  t.notOk(verifySignature({ method: 'POST', url, params: [...PARAMS, ['oauth_signature', 'Ls93hJiZbQ3akF3HF3x1Bz8/zU5=']], consumerSecret: CONSUMER_SECRET, tokenSecret: TOKEN_SECRET }), 'signature changed')
  t.notOk(verifySignature({ method: 'POST', url, params: PARAMS, consumerSecret: CONSUMER_SECRET, tokenSecret: TOKEN_SECRET }), 'no signature')
})

t.test('the base string URI keeps non-default ports and drops default ones, query and fragment', async (t) => {
  t.equal(baseStringUri('HTTP://Example.COM:80/r%20v/X?id=123#frag'), 'http://example.com/r%20v/X')
  t.equal(baseStringUri('https://www.example.net:8080/?q=1'), 'https://www.example.net:8080/')
  t.equal(baseStringUri('http://127.0.0.1:3100/oauth/request_token'), 'http://127.0.0.1:3100/oauth/request_token')
})

t.test('the Authorization header parser decodes values, drops realm and refuses duplicates', async (t) => {
  const parsed = parseAuthorizationHeader('OAuth realm="Example", oauth_consumer_key="a%20b",oauth_signature="Ls93hJiZbQ3akF3HF3x1Bz8%2FzU4%3D"')
  t.same(parsed === undefined ? undefined : Object.fromEntries(parsed), { oauth_consumer_key: 'a b', oauth_signature: 'Ls93hJiZbQ3akF3HF3x1Bz8/zU4=' })
  t.equal(parseAuthorizationHeader('OAuth oauth_nonce="1", oauth_nonce="2"'), undefined)
  t.equal(parseAuthorizationHeader('Bearer abc'), undefined)
  t.equal(parseAuthorizationHeader('OAuth oauth_nonce=unquoted'), undefined)
})
