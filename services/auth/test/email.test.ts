import { ExportReadyV1 } from '@pulse/contracts'
import { startSmtpServer } from '@pulse/testing'
import { sql } from 'kysely'
import t from 'tap'
import { build, settle } from './helper.js'
import { json, mailEnv, mailsTo, nthMailTo, registerAccount, tokenIn, verifyEmail } from './account-flows.js'

t.test('an address is verified by a mailed link that works once; changing it re-verifies and tells the old address', async (t) => {
  const smtp = await startSmtpServer(t)
  const auth = await build(t, mailEnv(smtp))
  const ada = await registerAccount(auth, 'ada')
  const put = await auth.app.inject({ method: 'PUT', url: '/auth/email', headers: ada.headers, payload: { email: 'ada@example.test' } })
  t.equal(put.statusCode, 202)
  t.match(json(put), { email: 'ada@example.test', emailVerified: false })
  const mail = await nthMailTo(smtp, 'ada@example.test')
  t.match(mail.subject, /Confirm your e-mail address/)
  t.match(mail.text, `${auth.config.FRONTEND_URL}/sign-in?verify-email#token=`)
  t.match(mail.html, '/sign-in?verify-email#token=')
  const token = tokenIn(mail)
  const verify = (tok: string) => auth.app.inject({ method: 'POST', url: '/auth/email/verify', headers: auth.from('10.0.0.1'), payload: { token: tok } })
  t.same(json(await verify(token)), { email: 'ada@example.test' })
  t.match(json(await auth.app.inject({ method: 'GET', url: '/auth/security', headers: ada.headers })), { email: 'ada@example.test', emailVerified: true })
  const again = await verify(token)
  t.equal(again.statusCode, 400, 'the link works once')
  t.equal(json(again).code, 'AUTH_INVALID_TOKEN')

  await auth.app.inject({ method: 'PUT', url: '/auth/email', headers: ada.headers, payload: { email: 'ada@new.example.test' } })
  const notice = await nthMailTo(smtp, 'ada@example.test', 2)
  t.match(notice.subject, /address is changing/)
  t.match(notice.text, 'ada@new.example.test')
  t.notMatch(notice.text, '#token=', 'the old address gets no link')
  const second = tokenIn(await nthMailTo(smtp, 'ada@new.example.test'))
  t.match(json(await auth.app.inject({ method: 'GET', url: '/auth/security', headers: ada.headers })), { email: 'ada@new.example.test', emailVerified: false })
  await auth.db.updateTable('account_tokens').set({ expires_at: sql<Date>`now() - interval '1 second'` }).where('used_at', 'is', null).execute()
  t.equal((await verify(second)).statusCode, 400, 'an expired link fails')
  t.equal((await verify('forged-token-that-was-never-issued')).statusCode, 400, 'a forged one too')

  const bad = await auth.app.inject({ method: 'PUT', url: '/auth/email', headers: ada.headers, payload: { email: 'not an address' } })
  t.equal(bad.statusCode, 400)
  t.match(json(bad).message, /body\/email/)
})

t.test('an address another account verified first cannot be verified again', async (t) => {
  const smtp = await startSmtpServer(t)
  const auth = await build(t, mailEnv(smtp))
  const ada = await registerAccount(auth, 'ada')
  const bob = await registerAccount(auth, 'bob')
  await auth.app.inject({ method: 'PUT', url: '/auth/email', headers: bob.headers, payload: { email: 'Shared@example.test' } })
  const bobToken = tokenIn(await nthMailTo(smtp, 'Shared@example.test'))
  await verifyEmail(auth, smtp, ada, 'shared@example.test')
  const res = await auth.app.inject({ method: 'POST', url: '/auth/email/verify', headers: auth.from('10.0.0.1'), payload: { token: bobToken } })
  t.equal(res.statusCode, 409)
  t.equal(json(res).code, 'AUTH_EMAIL_TAKEN')
})

t.test('"your export is ready" goes to a verified address once, and to nobody without one', async (t) => {
  const smtp = await startSmtpServer(t)
  const auth = await build(t, mailEnv(smtp))
  const ada = await registerAccount(auth, 'ada')
  await verifyEmail(auth, smtp, ada, 'ada@example.test')
  const bob = await registerAccount(auth, 'bob')
  await auth.app.inject({ method: 'PUT', url: '/auth/email', headers: bob.headers, payload: { email: 'bob@example.test' } })
  await nthMailTo(smtp, 'bob@example.test')
  const expiresAt = new Date(Date.now() + 86_400_000).toISOString()
  await auth.inner.nats.publish(ExportReadyV1, { userId: bob.userId, exportId: 'export-b', expiresAt })
  await auth.inner.nats.publish(ExportReadyV1, { userId: ada.userId, exportId: 'export-a', expiresAt })
  await auth.inner.nats.publish(ExportReadyV1, { userId: ada.userId, exportId: 'export-a', expiresAt })
  const mail = await nthMailTo(smtp, 'ada@example.test', 2)
  t.match(mail.subject, /data export is ready/)
  await settle(2 * auth.config.MAIL_RETRY_MAX_MS)
  t.equal(mailsTo(smtp, 'ada@example.test').length, 2, 'one export mail for one export, however often the event comes')
  t.equal(mailsTo(smtp, 'bob@example.test').length, 1, 'none to an unverified address')
})

t.test('a provider-only account can add a password; no account can drop its last way in', async (t) => {
  const auth = await build(t)
  const user = await auth.db.insertInto('users').values({ username: 'twitchy', display_name: 'twitchy', password_hash: null, timezone: 'UTC' }).returning('id').executeTakeFirstOrThrow()
  await auth.db.insertInto('connections').values({
    user_id: user.id, provider: 'twitch', provider_user_id: '1', provider_login: 'twitchy', scopes: [], access_token: 'x', refresh_token: null, token_secret: null, key_id: 'k', expires_at: null
  }).execute()
  const headers = auth.as({ userId: user.id, role: 'user', timezone: 'UTC' })
  const unlink = await auth.app.inject({ method: 'DELETE', url: '/auth/connections/twitch', headers })
  t.equal(unlink.statusCode, 409)
  t.equal(json(unlink).code, 'AUTH_LAST_SIGN_IN_METHOD')
  t.equal((await auth.db.selectFrom('connections').selectAll().execute()).length, 1, 'the connection stays')
  const add = await auth.app.inject({ method: 'PUT', url: '/auth/password', headers, payload: { newPassword: 'a first password' } })
  t.equal(add.statusCode, 204)
  const login = await auth.app.inject({ method: 'POST', url: '/auth/login', headers: auth.from('10.0.0.1'), payload: { username: 'twitchy', password: 'a first password' } })
  t.equal(login.statusCode, 200)
  t.match(json(login).user.connections, [{ provider: 'twitch', providerLogin: 'twitchy' }], 'logging in with the password answers the account with its connections')
  const noCurrent = await auth.app.inject({ method: 'PUT', url: '/auth/password', headers, payload: { newPassword: 'a second password' } })
  t.equal(noCurrent.statusCode, 400, 'once there is a password, changing it needs it')
  t.equal(json(noCurrent).code, 'AUTH_CURRENT_PASSWORD_REQUIRED')
})
