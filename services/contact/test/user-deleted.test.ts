import { randomUUID } from 'node:crypto'
import { AUTH_STREAM, UserDeletedV1 } from '@pulse/contracts'
import { EventBus } from '@pulse/service-kit'
import { createTestDatabase, rowsMentioning, testInfra, uniqueName } from '@pulse/testing'
import t from 'tap'
import { CONTACT_SCHEMA } from '../src/db/database.js'
import { build, eventually, nextAddress, userHeader, validMessage, visitorHeader } from './helper.js'

t.test('a deleted account: contact, down at that moment, deletes the messages the user sent logged in when it starts again', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const prefix = uniqueName('contact')
  const first = await build(t, { databaseUrl, env: { NATS_PREFIX: prefix } })
  const bus = await EventBus.connect({ url: (await testInfra()).natsUrl, name: 'contact-test-auth', prefix, streams: [AUTH_STREAM] })
  t.teardown(async () => {
    await bus.jsm.streams.delete(bus.streamName(AUTH_STREAM)).catch(() => {})
    await bus.close()
  })
  const leaving = randomUUID()
  const staying = randomUUID()
  for (const [userId, n] of [[leaving, 1], [leaving, 2], [staying, 3]] as const) {
    const res = await first.app.inject({ method: 'POST', url: '/contact', headers: userHeader('user', userId, nextAddress()), payload: validMessage({ message: `message ${n}` }) })
    t.equal(res.statusCode, 202)
  }
  const anonymous = await first.app.inject({ method: 'POST', url: '/contact', headers: visitorHeader(nextAddress()), payload: validMessage({ message: 'anonymous' }) })
  t.equal(anonymous.statusCode, 202)
  t.same(await rowsMentioning(first.db, CONTACT_SCHEMA, leaving), { submissions: 2 }, 'the sender is stored with their messages')

  await first.app.close()
  await bus.publish(UserDeletedV1, { userId: leaving, deletedAt: new Date().toISOString() })
  const second = await build(t, { databaseUrl, env: { NATS_PREFIX: prefix } })
  t.ok(await eventually(async () => Object.keys(await rowsMentioning(second.db, CONTACT_SCHEMA, leaving)).length === 0, 20_000), 'no row of any table mentions the user')
  t.same(await rowsMentioning(second.db, CONTACT_SCHEMA, staying), { submissions: 1 }, 'another user keeps their message')
  const left = await second.db.selectFrom('submissions').select('message').orderBy('message').execute()
  t.same(left.map((r) => r.message), ['anonymous', 'message 3'])
})
