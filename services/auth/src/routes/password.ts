import {
  ChangePasswordBodySchema, ErrorResponseSchema, ForgotPasswordBodySchema, ForgotPasswordResponseSchema, ResetPasswordBodySchema
} from '@pulse/contracts'
import { rateLimitSubject } from '@pulse/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import Type from 'typebox'
import type { AccountSessions } from '../account-sessions.js'
import type { AuthConfig } from '../config.js'
import {
  AuthCurrentPasswordRequiredError, AuthInvalidLinkTokenError, AuthTooManyResetRequestsError, AuthUserNotFoundError
} from '../errors.js'
import { AttemptBudgets, type LoginThrottle } from '../login-throttle.js'
import { confirmPassword } from '../password-confirmation.js'
import { linkTo, passwordChangedMail, passwordResetMail } from '../mail/messages.js'
import type { Passwords } from '../passwords.js'
import { consumeToken, issueToken, newToken } from '../repositories/account-tokens.js'
import { findUserByVerifiedEmail } from '../repositories/emails.js'
import { queueMail } from '../repositories/mails.js'
import { currentUser } from '../current-user.js'
import { findUserByUsername, updateUser, type UserRow } from '../repositories/users.js'
import { startSession } from '../sessions.js'

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorResponseSchema]))

/** Where the dashboard takes the token of a reset from the link's fragment. */
export const RESET_PASSWORD_PATH = '/sign-in?reset-password'

export interface PasswordRoutesOptions {
  config: AuthConfig
  passwords: Passwords
  throttle: LoginThrottle
  accountSessions: AccountSessions
}

const FORGOT_ANSWER = { message: 'If an account with a verified e-mail address matches, a link to choose a new password is on its way.' } as const

export default async function passwordRoutes (fastify: FastifyInstance, { config, passwords, throttle, accountSessions }: PasswordRoutesOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const budgets = new AttemptBudgets(app.redis)

  /** Mails the user that the password changed (to a verified address), in the caller's transaction. */
  const noticeOf = (user: UserRow) => user.email !== null && user.email_verified_at !== null ? { userId: user.id, kind: 'password_changed', to: user.email, mail: passwordChangedMail(user.display_name) } : undefined

  /**
   * The answer is the same, in status, body and work, whether the account exists or not: the token
   * is made, the lookup done and one transaction run either way; only its writes differ. Requests are
   * limited per client address and per name asked for (known or not, so the limit reveals nothing).
   */
  app.post('/auth/password/forgot', {
    config: { public: true },
    schema: {
      tags: ['account security'],
      summary: 'Ask for a password-reset link by username or verified e-mail address; the same answer whether it exists or not',
      security: [],
      body: ForgotPasswordBodySchema,
      response: { 202: ForgotPasswordResponseSchema, ...errors(400, 429, 503) }
    }
  }, async (request, reply) => {
    const login = request.body.login.trim()
    const verdict = await budgets.take([
      { key: `password-resets:address:${rateLimitSubject(request.clientIp)}`, max: config.PASSWORD_RESET_MAX_PER_ADDRESS },
      { key: `password-resets:account:${login.toLowerCase()}`, max: config.PASSWORD_RESET_MAX_PER_ACCOUNT }
    ], config.PASSWORD_RESET_WINDOW_S)
    if (!verdict.allowed) {
      void reply.header('retry-after', String(verdict.retryAfterSeconds))
      throw new AuthTooManyResetRequestsError()
    }
    const token = newToken()
    const found = login.includes('@') ? await findUserByVerifiedEmail(app.db, login) : await findUserByUsername(app.db, login)
    const user = found !== undefined && found.email !== null && found.email_verified_at !== null ? found : undefined
    const mail = passwordResetMail(user?.display_name ?? login, linkTo(config.FRONTEND_URL, RESET_PASSWORD_PATH, token), Math.round(config.PASSWORD_RESET_TTL_S / 60))
    await app.db.transaction().execute(async (trx) => {
      if (user === undefined) {
        await sql`select 1`.execute(trx)
        return
      }
      await issueToken(trx, { userId: user.id, purpose: 'reset_password', ttlSeconds: config.PASSWORD_RESET_TTL_S, token })
      await queueMail(trx, { userId: user.id, kind: 'password_reset', to: user.email!, mail })
    })
    if (user !== undefined) app.outbox.wake()
    return reply.code(202).send(FORGOT_ANSWER)
  })

  /** A reset link works once, before it expires, and ends every session of the account. */
  app.post('/auth/password/reset', {
    config: { public: true },
    schema: {
      tags: ['account security'],
      summary: 'Choose a new password with the token of a reset link: every session of the account ends',
      security: [],
      body: ResetPasswordBodySchema,
      response: { 204: Type.Null(), ...errors(400, 503) }
    }
  }, async (request, reply) => {
    const passwordHash = await passwords.hash(request.body.password)
    const user = await app.db.transaction().execute(async (trx) => {
      const row = await consumeToken(trx, 'reset_password', request.body.token)
      if (row === undefined) return undefined
      const updated = await updateUser(trx, row.user_id, { passwordHash })
      if (updated === undefined) return undefined
      const notice = noticeOf(updated)
      if (notice !== undefined) await queueMail(trx, notice)
      return updated
    })
    if (user === undefined) throw new AuthInvalidLinkTokenError()
    app.outbox.wake()
    await accountSessions.endAll(user.id)
    return reply.code(204).send(null)
  })

  /**
   * Needs the current password (throttled like a login), unless the account has none yet (made by
   * signing in with a provider): then it adds one. Every other session ends and this one gets a new id.
   */
  app.put('/auth/password', {
    schema: {
      tags: ['account security'],
      summary: 'Change (or add) the password: other sessions end, this one gets a new session id',
      body: ChangePasswordBodySchema,
      response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 429) }
    }
  }, async (request, reply) => {
    const { userId, user } = await currentUser(app.db, request)
    const { currentPassword, newPassword } = request.body
    if (user.password_hash !== null) {
      if (currentPassword === undefined) throw new AuthCurrentPasswordRequiredError()
      await confirmPassword({ throttle, passwords }, request, reply, { username: user.username, passwordHash: user.password_hash }, currentPassword, 'currentPassword')
    }
    const passwordHash = await passwords.hash(newPassword)
    const updated = await app.db.transaction().execute(async (trx) => {
      const row = await updateUser(trx, userId, { passwordHash })
      const notice = row !== undefined ? noticeOf(row) : undefined
      if (notice !== undefined) await queueMail(trx, notice)
      return row
    })
    if (updated === undefined) throw new AuthUserNotFoundError()
    app.outbox.wake()
    await accountSessions.endAll(userId)
    await startSession(request, updated)
    return reply.code(204).send(null)
  })
}
