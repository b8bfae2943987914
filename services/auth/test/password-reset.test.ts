import { MailQueuedV1 } from '@pulse/contracts'
import { startSmtpServer } from '@pulse/testing'
import { sql } from 'kysely'
import t from 'tap'
import { build, eventually, sessionExists, settle } from './helper.js'
import { json, loginAgain, mailEnv, mailsTo, nthMailTo, registerAccount, tokenIn, verifyEmail } from './account-flows.js'

const forgot = (auth: Awaited<ReturnType<typeof build>>, login: string, ip = '10.0.0.9') =>
  auth.app.inject({ method: 'POST', url: '/auth/password/forgot', headers: auth.from(ip), payload: { login } })
const reset = (auth: Awaited<ReturnType<typeof build>>, token: string, password = 'a brand new password') =>
  auth.app.inject({ method: 'POST', url: '/auth/password/reset', headers: auth.from('10.0.0.9'), payload: { token, password } })

t.test('unknown and known accounts get the same answer; only a known, verified one gets a mail', async (t) => {
  const smtp = await startSmtpServer(t)
  const auth = await build(t, mailEnv(smtp))
  const ada = await registerAccount(auth, 'ada')
  await verifyEmail(auth, smtp, ada, 'ada@example.test')
  await registerAccount(auth, 'noaddress')
  const answers = []
  for (const login of ['ada', 'ADA@example.test', 'nobody', 'nobody@example.test', 'noaddress']) {
    const res = await forgot(auth, login)
    answers.push({ status: res.statusCode, body: res.body })
  }
  t.same(new Set(answers.map((a) => JSON.stringify(a))).size, 1, 'one status and one body for all five')
  t.equal(answers[0]!.status, 202)
  await nthMailTo(smtp, 'ada@example.test', 3)
  await settle(4 * auth.config.OUTBOX_POLL_INTERVAL_MS)
  t.equal(smtp.mails.length, 3, 'the verification mail and two reset mails; nothing for the others')
  t.match(mailsTo(smtp, 'ada@example.test')[1]!.subject, /new Pulse password/)
})

t.test('a reset link works once, before it expires; a forged one never; using it ends every session', async (t) => {
  const smtp = await startSmtpServer(t)
  const auth = await build(t, { ...mailEnv(smtp), LOG_LEVEL: 'info' })
  const ada = await registerAccount(auth, 'ada')
  await verifyEmail(auth, smtp, ada, 'ada@example.test')
  await loginAgain(auth, ada)
  const sessionIds = (await auth.redis.smembers(`user-sessions:${ada.userId}`))
  t.equal(sessionIds.length, 2)

  t.equal((await forgot(auth, 'ada')).statusCode, 202)
  const token = tokenIn(await nthMailTo(smtp, 'ada@example.test', 2))
  const forged = await reset(auth, token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA'))
  t.equal(forged.statusCode, 400)
  t.equal(json(forged).code, 'AUTH_INVALID_TOKEN')
  t.match(json(forged).message, /body\/token/)

  t.equal((await reset(auth, token)).statusCode, 204)
  for (const id of sessionIds) t.notOk(await sessionExists(auth.redis, id), 'every session ended')
  t.equal((await auth.app.inject({ method: 'POST', url: '/auth/login', headers: auth.from('10.0.0.3'), payload: { username: 'ada', password: 'a brand new password' } })).statusCode, 200, 'the new password works')
  t.equal((await auth.app.inject({ method: 'POST', url: '/auth/login', headers: auth.from('10.0.0.3'), payload: { username: 'ada', password: ada.password } })).statusCode, 401, 'the old one does not')

  const reused = await reset(auth, token, 'yet another password')
  t.equal(reused.statusCode, 400, 'a used link fails')
  t.equal(json(reused).code, 'AUTH_INVALID_TOKEN')

  t.equal((await forgot(auth, 'ada@example.test')).statusCode, 202)
  const late = tokenIn(await nthMailTo(smtp, 'ada@example.test', 4)) // 3: "your password was changed"
  await auth.db.updateTable('account_tokens').set({ expires_at: sql<Date>`now() - interval '1 second'` }).where('purpose', '=', 'reset_password').where('used_at', 'is', null).execute()
  t.equal((await reset(auth, late)).statusCode, 400, 'an expired link fails')

  const stored = await auth.db.selectFrom('account_tokens').select('token_hash').execute()
  t.notOk(stored.some((r) => r.token_hash === token || r.token_hash === late), 'only hashes are stored')
  t.notOk(auth.lines.some((l) => l.includes(token) || l.includes(late)), 'no token in the logs')
  const events = await auth.events(MailQueuedV1.subject)
  t.ok(events.length >= 4)
  t.notOk(JSON.stringify(events).includes(token), 'no token in the events')
  t.same(Object.keys(events[0] as object), ['mailId'])
})

t.test('reset requests are limited per address and per account', async (t) => {
  const auth = await build(t, { PASSWORD_RESET_MAX_PER_ACCOUNT: '2', PASSWORD_RESET_MAX_PER_ADDRESS: '4' })
  t.equal((await forgot(auth, 'someone', '10.1.0.1')).statusCode, 202)
  t.equal((await forgot(auth, 'someone', '10.1.0.2')).statusCode, 202)
  const third = await forgot(auth, 'SomeOne', '10.1.0.3')
  t.equal(third.statusCode, 429, 'the account budget holds across addresses')
  t.equal(json(third).code, 'AUTH_TOO_MANY_RESET_REQUESTS')
  t.ok(Number(third.headers['retry-after']) > 0)
  t.equal((await forgot(auth, 'a', '10.1.0.1')).statusCode, 202)
  t.equal((await forgot(auth, 'b', '10.1.0.1')).statusCode, 202)
  t.equal((await forgot(auth, 'c', '10.1.0.1')).statusCode, 202)
  t.equal((await forgot(auth, 'd', '10.1.0.1')).statusCode, 429, 'the address budget holds across accounts')
})

t.test('with the SMTP server down the mail waits, and arrives exactly once after it comes back', async (t) => {
  const smtp = await startSmtpServer(t)
  const auth = await build(t, mailEnv(smtp))
  const ada = await registerAccount(auth, 'ada')
  await verifyEmail(auth, smtp, ada, 'ada@example.test')
  await smtp.stop()
  t.equal((await forgot(auth, 'ada')).statusCode, 202)
  const attempted = await eventually(async () => {
    const row = await auth.db.selectFrom('mails').select('attempts').where('kind', '=', 'password_reset').executeTakeFirst()
    return row !== undefined && row.attempts >= 3
  })
  t.ok(attempted, 'the sender kept trying while the server was down')
  t.equal(smtp.mails.length, 1, 'only the verification mail so far')
  await smtp.start()
  const mail = await nthMailTo(smtp, 'ada@example.test', 2)
  t.match(mail.subject, /new Pulse password/)
  // Another send could only come from a redelivery, at most MAIL_RETRY_MAX_MS after the last attempt.
  await settle(3 * auth.config.MAIL_RETRY_MAX_MS)
  t.equal(mailsTo(smtp, 'ada@example.test').length, 2, 'exactly once')
  const row = await auth.db.selectFrom('mails').selectAll().where('kind', '=', 'password_reset').executeTakeFirstOrThrow()
  t.ok(row.sent_at !== null, 'marked sent')
  t.equal(row.text_body, null, 'its body (with the link) is cleared')
  t.equal(row.html_body, null)
})
