import { randomUUID } from 'node:crypto'
import { IDENTITY_HEADER, signIdentity } from '@pulse/service-kit'
import t from 'tap'
import { SECRET, build, userHeader } from './helper.js'

t.test('an assertion the gateway minted for mood is refused here, even signed with the right key', async (t) => {
  const { app, lines } = await build(t)
  const forMood = signIdentity({ userId: randomUUID(), role: 'admin', timezone: 'UTC', requestId: randomUUID(), audience: 'mood' }, SECRET)
  const replayed = await app.inject({ url: '/contact', headers: { [IDENTITY_HEADER]: forMood } })
  t.equal(replayed.statusCode, 401, 'an admin\'s mood assertion opens nothing at contact')
  t.equal(replayed.json().code, 'CONTACT_UNAUTHENTICATED')
  t.ok(lines.some((l) => l.msg === 'identity assertion refused' && l.reason === 'wrong-audience'), 'the refusal is logged with its reason')
  const own = await app.inject({ url: '/contact', headers: userHeader('admin') })
  t.equal(own.statusCode, 200, 'one minted for contact is accepted')
})

t.test('key rotation: assertions signed with IDENTITY_SECRET_PREVIOUS are accepted while it is set, refused after', async (t) => {
  const NEW = 'the-rotated-identity-secret-of-32-chars-or-more'
  const who = { userId: randomUUID(), role: 'admin' as const, timezone: 'UTC', requestId: randomUUID(), audience: 'contact' }
  const oldKey = signIdentity(who, SECRET)
  const newKey = signIdentity(who, NEW)

  const rolling = await build(t, { env: { IDENTITY_SECRET: NEW, IDENTITY_SECRET_PREVIOUS: SECRET } })
  t.equal((await rolling.app.inject({ url: '/contact', headers: { [IDENTITY_HEADER]: oldKey } })).statusCode, 200, 'a gateway still on the old key is accepted during the rollout')
  t.equal((await rolling.app.inject({ url: '/contact', headers: { [IDENTITY_HEADER]: newKey } })).statusCode, 200, 'one on the new key too')

  const done = await build(t, { env: { IDENTITY_SECRET: NEW } })
  const refused = await done.app.inject({ url: '/contact', headers: { [IDENTITY_HEADER]: oldKey } })
  t.equal(refused.statusCode, 401, 'once IDENTITY_SECRET_PREVIOUS is removed the old key opens nothing')
  t.ok(done.lines.some((l) => l.msg === 'identity assertion refused' && l.reason === 'bad-signature'))
  t.equal((await done.app.inject({ url: '/contact', headers: { [IDENTITY_HEADER]: newKey } })).statusCode, 200)
})
