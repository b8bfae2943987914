import { randomUUID } from 'node:crypto'
import { ContactSubmittedV1 } from '@pulse/contracts'
import { startSmtpServer } from '@pulse/testing'
import t from 'tap'
import { unsubscribeToken } from '../src/mail/unsubscribe.js'
import { build, eventually, fakeAuth, recipient, quiet, userHeader } from './helper.js'

t.test('settings: defaults per kind and channel, changed per user, contact.received for admins only', async (t) => {
  const { app } = await build(t)
  const user = randomUUID()
  const mine = await app.inject({ url: '/notify/settings', headers: userHeader('user', user) })
  t.equal(mine.statusCode, 200)
  t.same(mine.json(), {
    settings: [
      { kind: 'channel.live', email: false, webhook: true, live: true },
      { kind: 'milestone', email: true, webhook: true, live: true },
      { kind: 'connection.broken', email: true, webhook: true, live: true },
      { kind: 'mood.reminder', email: true, webhook: false, live: true }
    ]
  }, 'a user\'s defaults; no contact.received')
  const admin = await app.inject({ url: '/notify/settings', headers: userHeader('admin') })
  t.match(admin.json().settings[0], { kind: 'contact.received', email: true, webhook: true, live: true }, 'admins have contact.received')

  const changed = await app.inject({
    method: 'PATCH', url: '/notify/settings', headers: userHeader('user', user),
    payload: { changes: [{ kind: 'channel.live', channel: 'email', enabled: true }, { kind: 'milestone', channel: 'webhook', enabled: false }] }
  })
  t.equal(changed.statusCode, 200)
  t.match(changed.json().settings, [{ kind: 'channel.live', email: true }, { kind: 'milestone', webhook: false, email: true }])
  t.same((await app.inject({ url: '/notify/settings', headers: userHeader('user', user) })).json(), changed.json(), 'stored')
  t.same((await app.inject({ url: '/notify/settings', headers: userHeader('user') })).json(), mine.json(), 'another user keeps the defaults')

  const forbidden = await app.inject({ method: 'PATCH', url: '/notify/settings', headers: userHeader('user', user), payload: { changes: [{ kind: 'milestone', channel: 'email', enabled: false }, { kind: 'contact.received', channel: 'email', enabled: false }] } })
  t.equal(forbidden.statusCode, 400)
  t.match(forbidden.json(), { code: 'NOTIFY_VALIDATION', message: 'body/changes/1/kind: contact.received is for admins only' })
  for (const payload of [{ changes: [] }, { changes: [{ kind: 'nope', channel: 'email', enabled: true }] }, { changes: [{ kind: 'milestone', channel: 'sms', enabled: true }] }, { changes: [{ kind: 'milestone', channel: 'email', enabled: 'yes' }] }, {}]) {
    const res = await app.inject({ method: 'PATCH', url: '/notify/settings', headers: userHeader('user', user), payload })
    t.equal(res.statusCode, 400, `${JSON.stringify(payload)} is refused`)
    t.match(res.json().message, /body/, 'naming the field')
  }
  t.equal((await app.inject({ url: '/notify/settings' })).statusCode, 401)
})

t.test('a channel turned off gets nothing; the one-click link of a mail turns that kind\'s mails off', async (t) => {
  const smtp = await startSmtpServer(t)
  const built = await build(t, { env: { SMTP_URL: smtp.url } })
  const ada = recipient({ role: 'admin', email: 'ada@example.com' })
  const grace = recipient({ role: 'admin', email: 'grace@example.com' })
  const auth = await fakeAuth(t, built.config.NATS_PREFIX, [ada, grace])
  await built.app.inject({ method: 'PATCH', url: '/notify/settings', headers: userHeader('admin', grace.userId), payload: { changes: [{ kind: 'contact.received', channel: 'email', enabled: false }] } })
  await auth.bus.publish(ContactSubmittedV1, { id: 'm1', receivedAt: new Date().toISOString(), spam: false })
  t.ok(await eventually(() => smtp.mails.length === 1))
  t.ok(await quiet(built), 'notify has nothing left to do')
  t.same(smtp.mails.map((m) => m.to[0]), ['ada@example.com'], 'grace turned these mails off')

  const link = /https:\/\/pulse\.example(\/notify\/unsubscribe\?token=\S+)/.exec(smtp.mails[0]!.text)![1]!
  t.equal(smtp.mails[0]!.headers['list-unsubscribe'], `<https://pulse.example${link}>`, 'the mail client\'s one-click unsubscribe (RFC 2369)')
  t.equal(smtp.mails[0]!.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click', 'RFC 8058')
  const res = await built.app.inject({ method: 'GET', url: link })
  t.equal(res.statusCode, 200, 'no login needed')
  t.same(res.json(), { kind: 'contact.received', channel: 'email', enabled: false })
  t.match((await built.app.inject({ url: '/notify/settings', headers: userHeader('admin', ada.userId) })).json().settings[0], { kind: 'contact.received', email: false, live: true }, 'only that kind\'s mails are off')
  t.equal((await built.app.inject({ method: 'POST', url: link })).statusCode, 200, 'the RFC 8058 one-click POST works too')

  await auth.bus.publish(ContactSubmittedV1, { id: 'm2', receivedAt: new Date().toISOString(), spam: false })
  t.ok(await quiet(built), 'notify has nothing left to do')
  t.equal(smtp.mails.length, 1, 'no more mails')

  const forged = unsubscribeToken('another-secret-of-at-least-32-characters!', ada.userId, 'milestone')
  for (const token of [forged, 'not-a-token-at-all', `${link.split('token=')[1]!}x`]) {
    const bad = await built.app.inject({ url: `/notify/unsubscribe?token=${encodeURIComponent(token)}` })
    t.equal(bad.statusCode, 400)
    t.equal(bad.json().code, 'NOTIFY_BAD_LINK')
  }
})

t.test('a flood of one kind becomes a digest: the first mails one by one, the rest in one mail once the window has passed', async (t) => {
  const smtp = await startSmtpServer(t)
  const built = await build(t, { env: { SMTP_URL: smtp.url, NOTIFY_DIGEST_AFTER: '2', NOTIFY_DIGEST_WINDOW_MS: '1500' } })
  const ada = recipient({ role: 'admin', email: 'ada@example.com' })
  const auth = await fakeAuth(t, built.config.NATS_PREFIX, [ada])
  for (let i = 1; i <= 6; i++) await auth.bus.publish(ContactSubmittedV1, { id: `flood-${i}`, receivedAt: new Date().toISOString(), spam: false })
  t.ok(await eventually(() => smtp.mails.length === 3), 'two mails, then one digest')
  t.ok(await quiet(built), 'notify has nothing left to do')
  t.equal(smtp.mails.length, 3)
  t.same(smtp.mails.slice(0, 2).map((m) => m.subject), ['A new contact message arrived', 'A new contact message arrived'])
  const digest = smtp.mails[2]!
  t.equal(digest.subject, '4 notifications: A new contact message arrived and more')
  t.equal(digest.text.match(/• A new contact message arrived/g)?.length, 4, 'listing each of the four')
  t.match(digest.text, /\/notify\/unsubscribe\?token=/, 'with its unsubscribe link')
  const rows = await built.db.selectFrom('deliveries').select('status').where('channel', '=', 'email').execute()
  t.ok(rows.length === 6 && rows.every((r) => r.status === 'sent'), 'every notification counts as sent')
})
