import t from 'tap'
import { ProviderSession, ProviderUnauthorizedError, TokenRevokedError, concurrently, type ProviderGrant } from '../src/index.js'

// The credentials of one refresh whose calls run at once: calls refused together share one renewal.

const grant = (accessToken: string): ProviderGrant => ({
  ok: true, provider: 'twitch', providerUserId: '1', providerLogin: 'someone', accessToken, expiresAt: null, scopes: []
})

/** A provider that accepts only `valid` tokens, after a turn of the event loop. */
function provider (valid: Set<string>) {
  return async (g: ProviderGrant): Promise<string> => {
    await new Promise((resolve) => setImmediate(resolve))
    if (!valid.has(g.accessToken)) throw new ProviderUnauthorizedError('GET /helix/x')
    return g.accessToken
  }
}

t.test('calls refused at once with the same token ask auth for one new token, and all go on with it', async (t) => {
  const asked: Array<string | undefined> = []
  const session = await ProviderSession.open(async (rejected) => {
    asked.push(rejected)
    await new Promise((resolve) => setImmediate(resolve))
    return grant(rejected === undefined ? 'old' : 'new')
  })
  const call = provider(new Set(['new']))
  const answers = await Promise.all([1, 2, 3, 4].map(async () => await session.call(call)))
  t.same(answers, ['new', 'new', 'new', 'new'])
  t.same(asked, [undefined, 'old'], 'one token at the start, one renewal naming the token refused')
  t.equal(session.grant.accessToken, 'new')
})

t.test('a call refused with a token another call has renewed meanwhile retries with the new one, without asking again', async (t) => {
  let asks = 0
  const session = await ProviderSession.open(async () => grant(asks++ === 0 ? 'old' : 'new'))
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  // Slow: holds the old token until the other call has renewed it, then is refused.
  const slow = session.call(async (g) => {
    if (g.accessToken === 'old') { await gate; throw new ProviderUnauthorizedError('GET /helix/slow') }
    return g.accessToken
  })
  const fast = await session.call(async (g) => {
    if (g.accessToken === 'old') throw new ProviderUnauthorizedError('GET /helix/fast')
    return g.accessToken
  })
  release()
  t.equal(fast, 'new')
  t.equal(await slow, 'new')
  t.equal(asks, 2, 'one token at the start, one renewal')
})

t.test('refused also with the renewed token: the grant is gone', async (t) => {
  const session = await ProviderSession.open(async (rejected) => grant(rejected === undefined ? 'a' : 'b'))
  await t.rejects(session.call(provider(new Set())), TokenRevokedError)
})

t.test('concurrently answers results in order, and throws the first failure only after every task ended', async (t) => {
  t.same(await concurrently([async () => 1, async () => 'two', async () => null] as const), [1, 'two', null])
  let lateEnded = false
  const late = async () => { await new Promise((resolve) => setTimeout(resolve, 30)); lateEnded = true; return 0 }
  await t.rejects(concurrently([late, async () => { throw new Error('first') }, async () => { throw new Error('second') }] as const), { message: 'first' })
  t.ok(lateEnded, 'the slower task had ended when the failure was thrown')
})
