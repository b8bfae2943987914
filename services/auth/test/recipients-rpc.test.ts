import { RECIPIENTS_SUBJECTS, type RecipientsReply } from '@pulse/contracts'
import { startSmtpServer, testInfra } from '@pulse/testing'
import { connect } from '@nats-io/transport-node'
import t from 'tap'
import { mailEnv, registerAccount, verifyEmail } from './account-flows.js'
import { build, type TestAuth } from './helper.js'

const nc = await connect({ servers: (await testInfra()).natsUrl, name: 'auth-test-notify' })
t.teardown(() => nc.close())

/** What notify does: a request on core NATS, the reply parsed. */
async function ask (auth: TestAuth, request: unknown): Promise<RecipientsReply> {
  const msg = await nc.request(auth.inner.nats.subject(RECIPIENTS_SUBJECTS.notify), JSON.stringify(request), { timeout: 10_000 })
  return msg.json<RecipientsReply>()
}

t.test('notify learns the admins and given users, with verified addresses only', async (t) => {
  const smtp = await startSmtpServer(t)
  const auth = await build(t, mailEnv(smtp))
  const admin = await registerAccount(auth, 'recipients-admin')
  const verified = await registerAccount(auth, 'recipients-verified')
  const unverified = await registerAccount(auth, 'recipients-unverified')
  await auth.db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.userId).execute()
  await verifyEmail(auth, smtp, admin, 'admin@example.com')
  await verifyEmail(auth, smtp, verified, 'verified@example.com')
  const put = await auth.app.inject({ method: 'PUT', url: '/auth/email', headers: unverified.headers, payload: { email: 'unverified@example.com' } })
  t.equal(put.statusCode, 202)

  const admins = await ask(auth, { role: 'admin' })
  t.same(admins, { ok: true, recipients: [{ userId: admin.userId, role: 'admin', displayName: 'recipients-admin', timezone: 'UTC', email: 'admin@example.com' }] }, 'the admins, with their verified address')

  const users = await ask(auth, { userIds: [verified.userId, unverified.userId, 'not-a-uuid'] })
  t.ok(users.ok)
  if (!users.ok) return
  const byId = new Map(users.recipients.map((r) => [r.userId, r]))
  t.equal(byId.size, 2, 'unknown ids match nobody')
  t.equal(byId.get(verified.userId)?.email, 'verified@example.com')
  t.equal(byId.get(unverified.userId)?.email, null, 'an address not verified yet is not given out')

  t.match(await ask(auth, { role: 'user' }), { ok: false, error: 'invalid' }, 'only the admins can be asked for by role')
  t.match(await ask(auth, { userIds: [] }), { ok: false, error: 'invalid' })
})
