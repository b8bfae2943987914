import { ContactSubmittedV1, NotificationV1 } from '@pulse/contracts'
import { startSmtpServer } from '@pulse/testing'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { build, eventually, fakeAuth, recipient, quiet, startReceiver, userHeader } from './helper.js'

const smtpEnv = (url: string) => ({ SMTP_URL: url, NOTIFY_WEBHOOKS_ALLOW_PRIVATE: 'true' })

t.test('a contact message: one mail to each admin and one signed webhook delivery, once, with two replicas and a redelivered event', async (t) => {
  const smtp = await startSmtpServer(t)
  const one = await build(t, { env: smtpEnv(smtp.url) })
  const two = await build(t, { env: smtpEnv(smtp.url), sameAs: one })
  const ada = recipient({ role: 'admin', email: 'ada@example.com' })
  const grace = recipient({ role: 'admin', email: 'grace@example.com' })
  const noAddress = recipient({ role: 'admin', email: null })
  const plainUser = recipient({ role: 'user', email: 'user@example.com' })
  const auth = await fakeAuth(t, one.config.NATS_PREFIX, [ada, grace, noAddress, plainUser])
  const receiver = await startReceiver(t)
  const created = await one.app.inject({ method: 'POST', url: '/notify/webhooks', headers: userHeader('admin', ada.userId), payload: { url: receiver.url, description: 'team chat' } })
  t.equal(created.statusCode, 201)
  const { secret, endpoint } = created.json() as { secret: string, endpoint: { id: string } }
  t.match(secret, /^whsec_/)

  const live: unknown[] = []
  await auth.bus.consume([NotificationV1], { durable: 'test-live', stream: { name: 'NOTIFY', subjects: ['notify.>'] } }, async (p) => { live.push(p) })

  const event = { id: '6b0c6f0e-2f43-4c49-9c57-5d1f6d1a0001', receivedAt: new Date().toISOString(), spam: false }
  await auth.bus.publish(ContactSubmittedV1, event, { msgID: 'first' })
  t.ok(await eventually(() => smtp.mails.length >= 2 && receiver.received.length >= 1), 'the mails and the webhook arrive')
  // The same event again (a redelivery past JetStream's de-duplication), and a spam message.
  await auth.bus.publish(ContactSubmittedV1, event, { msgID: 'again' })
  await auth.bus.publish(ContactSubmittedV1, { ...event, id: '6b0c6f0e-2f43-4c49-9c57-5d1f6d1a0002', spam: true }, { msgID: 'spam' })
  t.ok(await quiet(one), 'notify has nothing left to do')

  t.same(smtp.mails.map((m) => m.to).flat().sort(), ['ada@example.com', 'grace@example.com'], 'one mail to each admin with an address, none to the user, none for spam, none twice')
  const mail = smtp.mails[0]!
  t.equal(mail.subject, 'A new contact message arrived')
  t.match(mail.text, 'https://pulse.example/dashboard/admin/contact', 'the mail links to the inbox')
  t.match(mail.text, /https:\/\/pulse\.example\/notify\/unsubscribe\?token=\S+/, 'with a one-click unsubscribe link')
  t.match(mail.html, '<a href="https://pulse.example/dashboard/admin/contact"', 'and an HTML version')

  t.equal(receiver.received.length, 1, 'one webhook delivery')
  const hook = receiver.received[0]!
  const verified = new Webhook(secret).verify(hook.body, hook.headers as Record<string, string>) as { type: string, data: Record<string, unknown> }
  t.equal(verified.type, 'contact.received', 'a Standard Webhooks verifier accepts the signature')
  t.equal(verified.data.submissionId, event.id)
  t.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(hook.body, hook.headers as Record<string, string>), 'another secret does not verify')
  t.throws(() => new Webhook(secret).verify(hook.body.replace('contact', 'kontakt'), hook.headers as Record<string, string>), 'a changed body does not verify')

  const deliveries = await one.app.inject({ url: `/notify/webhooks/${endpoint.id}/deliveries`, headers: userHeader('admin', ada.userId) })
  t.match(deliveries.json(), { items: [{ kind: 'contact.received', status: 'sent', messageId: hook.headers['webhook-id'], attempts: [{ attempt: 1, statusCode: 200, error: null }] }] }, 'the delivery log shows it')

  t.ok(await eventually(() => live.length >= 3), 'a live notification for each admin')
  t.ok(await quiet(one), 'notify has nothing left to do')
  t.equal(live.length, 3, 'once each')
  t.match(live[0], { kind: 'contact.received', title: 'A new contact message arrived' })
  void two
})

t.test('while auth cannot name the admins, the notification waits and is sent once it can', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { env: smtpEnv(smtp.url) })
  const ada = recipient({ role: 'admin', email: 'ada@example.com' })
  const auth = await fakeAuth(t, app.config.NATS_PREFIX, [ada])
  auth.setAnswering(false)
  await auth.bus.publish(ContactSubmittedV1, { id: 'a-message', receivedAt: new Date().toISOString(), spam: false })
  t.ok(await eventually(() => app.lines.some((l) => l.msg === 'admins unknown for now; the notification waits')))
  t.equal(smtp.mails.length, 0)
  auth.setAnswering(true)
  t.ok(await eventually(() => smtp.mails.length === 1), 'sent once auth answers')
})

t.test('while the SMTP server is down the mail waits, and is sent once it is back', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { env: smtpEnv(smtp.url) })
  const ada = recipient({ role: 'admin', email: 'ada@example.com' })
  const auth = await fakeAuth(t, app.config.NATS_PREFIX, [ada])
  await smtp.stop()
  await auth.bus.publish(ContactSubmittedV1, { id: 'while-down', receivedAt: new Date().toISOString(), spam: false })
  t.ok(await eventually(async () => (await app.db.selectFrom('deliveries').select('attempts').where('channel', '=', 'email').executeTakeFirst())?.attempts === 2), 'tried, and tried again')
  const row = await app.db.selectFrom('deliveries').selectAll().where('channel', '=', 'email').executeTakeFirstOrThrow()
  t.equal(row.status, 'pending')
  t.match(row.last_error, /^mail not sent/)
  t.notOk(app.lines.some((l) => JSON.stringify(l).includes('ada@example.com')), 'the address is not logged')
  await smtp.start()
  t.ok(await eventually(() => smtp.mails.length === 1), 'sent when the server is back')
  t.ok(await eventually(async () => (await app.db.selectFrom('deliveries').select('status').where('id', '=', row.id).executeTakeFirstOrThrow()).status === 'sent'))
})
