import { randomUUID } from 'node:crypto'
import { UserDataRpcV1 } from '@pulse/contracts'
import { EventBus, requestReply } from '@pulse/service-kit'
import { testInfra, uniqueName } from '@pulse/testing'
import t from 'tap'
import { build, nextAddress, userHeader, validMessage, visitorHeader } from './helper.js'

t.test('a data export reads every message the user sent logged in, page by page, and nobody else\'s', async (t) => {
  const prefix = uniqueName('contact')
  const { app } = await build(t, { env: { NATS_PREFIX: prefix } })
  const auth = await EventBus.connect({ url: (await testInfra()).natsUrl, name: 'contact-test-export', prefix, streams: [] })
  t.teardown(async () => { await auth.close() })
  const exporting = randomUUID()
  for (let n = 0; n < 23; n++) {
    const res = await app.inject({ method: 'POST', url: '/contact', headers: userHeader('user', exporting, nextAddress()), payload: validMessage({ message: `mine ${n}` }) })
    t.equal(res.statusCode, 202)
  }
  await app.inject({ method: 'POST', url: '/contact', headers: userHeader('user', randomUUID(), nextAddress()), payload: validMessage({ message: 'someone else' }) })
  await app.inject({ method: 'POST', url: '/contact', headers: visitorHeader(nextAddress()), payload: validMessage({ message: 'anonymous' }) })

  const ask = async (cursor?: string) => await requestReply(auth, UserDataRpcV1, 'contact', { userId: exporting, ...(cursor === undefined ? {} : { cursor }) }, { timeoutMs: 5000 })
  const first = await ask()
  if (!first.ok) throw new Error(first.message)
  t.equal(first.records.length, 20, 'a page of 20')
  t.type(first.nextCursor, 'string')
  const second = await ask(first.nextCursor!)
  if (!second.ok) throw new Error(second.message)
  t.equal(second.records.length, 3)
  t.equal(second.nextCursor, null, 'the last page says so')
  const messages = [...first.records, ...second.records].map((r) => r.message as string)
  t.equal(new Set(messages).size, 23, 'each message once')
  t.ok(messages.every((m) => m.startsWith('mine ')), 'only the user\'s own')
  t.same(Object.keys(first.records[0]!).sort(), ['email', 'id', 'message', 'name', 'receivedAt', 'status', 'subject'])

  const bad = await ask('not-a-cursor')
  t.same(bad, { ok: false, error: 'invalid', message: 'cursor must be the nextCursor of the previous page' })
})
