import type { ReceivedMail, TestSmtpServer } from '@pulse/testing'
import type { LightMyRequestResponse } from 'fastify'
import { cookieHeader, eventually, type TestAuth } from './helper.js'

export interface Account {
  userId: string
  username: string
  password: string
  /** Gateway-style headers of this user, with the session cookie of the registration. */
  headers: Record<string, string>
}

export const json = (res: LightMyRequestResponse) => res.json() as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** Registers a user; the answer's session cookie and a signed identity make its request headers. */
export async function registerAccount (auth: TestAuth, username: string, password = 'the first password', ip = '10.0.0.1'): Promise<Account> {
  const res = await auth.app.inject({ method: 'POST', url: '/auth/register', headers: auth.from(ip), payload: { username, password } })
  if (res.statusCode !== 201) throw new Error(`register ${username}: ${res.statusCode} ${res.body}`)
  const userId = json(res).user.id as string
  return { userId, username, password, headers: headersOf(auth, userId, cookieHeader(res)) }
}

export const headersOf = (auth: TestAuth, userId: string, cookie: string): Record<string, string> =>
  ({ ...auth.as({ userId, role: 'user', timezone: 'UTC' }), cookie })

/** Logs in again (a second session): the headers of that session. */
export async function loginAgain (auth: TestAuth, account: Account, password = account.password, userAgent = 'Second Browser/1.0'): Promise<Record<string, string>> {
  const res = await auth.app.inject({ method: 'POST', url: '/auth/login', headers: { ...auth.from('10.0.0.2'), 'user-agent': userAgent }, payload: { username: account.username, password } })
  if (res.statusCode !== 200) throw new Error(`login ${account.username}: ${res.statusCode} ${res.body}`)
  return headersOf(auth, account.userId, cookieHeader(res))
}

/** The mails to `to` the SMTP server received so far. */
export const mailsTo = (smtp: TestSmtpServer, to: string): ReceivedMail[] => smtp.mails.filter((m) => m.to.includes(to))

/** Waits for the `n`th mail to `to` (1-based) and answers it. */
export async function nthMailTo (smtp: TestSmtpServer, to: string, n = 1, ms = 10_000): Promise<ReceivedMail> {
  if (!await eventually(() => mailsTo(smtp, to).length >= n, ms)) throw new Error(`mail ${n} to ${to} never arrived (${mailsTo(smtp, to).length} did)`)
  return mailsTo(smtp, to)[n - 1]!
}

/** The secret of a mailed link (`…#token=<secret>`). */
export function tokenIn (mail: ReceivedMail): string {
  const match = /#token=([A-Za-z0-9_-]+)/.exec(mail.text)
  if (match === null) throw new Error(`no link in the mail "${mail.subject}"`)
  return match[1]!
}

/** Sets the account's address and opens the link mailed to it. */
export async function verifyEmail (auth: TestAuth, smtp: TestSmtpServer, account: Account, email: string): Promise<void> {
  const before = mailsTo(smtp, email).length
  const put = await auth.app.inject({ method: 'PUT', url: '/auth/email', headers: account.headers, payload: { email } })
  if (put.statusCode !== 202) throw new Error(`PUT /auth/email: ${put.statusCode} ${put.body}`)
  const mail = await nthMailTo(smtp, email, before + 1)
  const res = await auth.app.inject({ method: 'POST', url: '/auth/email/verify', headers: auth.from('10.0.0.1'), payload: { token: tokenIn(mail) } })
  if (res.statusCode !== 200) throw new Error(`verify: ${res.statusCode} ${res.body}`)
}

/** Env for an app that mails to this SMTP server and retries quickly. */
export const mailEnv = (smtp: TestSmtpServer): Record<string, string> => ({ SMTP_URL: smtp.url, MAIL_RETRY_BASE_MS: '100', MAIL_RETRY_MAX_MS: '400', MAIL_SMTP_TIMEOUT_MS: '2000' })
