import { AccountSecuritySchema, ErrorResponseSchema, SetEmailBodySchema, TokenBodySchema, VerifiedEmailSchema } from '@pulse/contracts'
import { requireIdentity } from '@pulse/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { AuthConfig } from '../config.js'
import { AuthEmailTakenError, AuthInvalidLinkTokenError, AuthUserNotFoundError } from '../errors.js'
import { emailChangedMail, linkTo, verifyEmailMail } from '../mail/messages.js'
import { consumeToken, issueToken } from '../repositories/account-tokens.js'
import { markEmailVerified, setUnverifiedEmail } from '../repositories/emails.js'
import { queueMail } from '../repositories/mails.js'
import { countRecoveryCodesLeft, isTwoFactorEnabled } from '../repositories/two-factor.js'
import { currentUser } from '../current-user.js'
import { findUserById } from '../repositories/users.js'

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorResponseSchema]))

/** Where the dashboard takes the token of an address check from the link's fragment. */
export const VERIFY_EMAIL_PATH = '/sign-in?verify-email'

export default async function emailRoutes (fastify: FastifyInstance, { config }: { config: AuthConfig }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  async function securityOf (userId: string) {
    const user = await findUserById(app.db, userId)
    if (user === undefined) throw new AuthUserNotFoundError()
    const twoFactorEnabled = await isTwoFactorEnabled(app.db, userId)
    return {
      email: user.email,
      emailVerified: user.email !== null && user.email_verified_at !== null,
      hasPassword: user.password_hash !== null,
      twoFactorEnabled,
      recoveryCodesLeft: twoFactorEnabled ? await countRecoveryCodesLeft(app.db, userId) : 0
    }
  }

  app.get('/auth/security', {
    schema: { tags: ['account security'], summary: 'How the account signs in and where its mail goes', response: { 200: AccountSecuritySchema, ...errors(401, 404) } }
  }, async (request) => await securityOf(requireIdentity(request).userId))

  /**
   * A new address is unverified until the link mailed to it is opened; the previous address, if it
   * was verified, is told of the change (someone who took over a session cannot quietly move the
   * account's mail elsewhere).
   */
  app.put('/auth/email', {
    schema: {
      tags: ['account security'],
      summary: 'Set or change the e-mail address: a link to verify it is mailed to it, the old address is told',
      body: SetEmailBodySchema,
      response: { 202: AccountSecuritySchema, ...errors(400, 401, 404) }
    }
  }, async (request, reply) => {
    const { userId, user } = await currentUser(app.db, request)
    const email = request.body.email.trim()
    const unchanged = user.email !== null && user.email.toLowerCase() === email.toLowerCase() && user.email_verified_at !== null
    if (!unchanged) {
      await app.db.transaction().execute(async (trx) => {
        await setUnverifiedEmail(trx, userId, email)
        const token = await issueToken(trx, { userId, purpose: 'verify_email', email, ttlSeconds: config.EMAIL_VERIFICATION_TTL_S })
        const link = linkTo(config.FRONTEND_URL, VERIFY_EMAIL_PATH, token)
        await queueMail(trx, { userId, kind: 'verify_email', to: email, mail: verifyEmailMail(user.display_name, link, Math.round(config.EMAIL_VERIFICATION_TTL_S / 3600)) })
        if (user.email !== null && user.email_verified_at !== null) {
          await queueMail(trx, { userId, kind: 'email_changed', to: user.email, mail: emailChangedMail(user.display_name, email) })
        }
      })
      app.outbox.wake()
    }
    return reply.code(202).send(await securityOf(userId))
  })

  app.post('/auth/email/verify', {
    config: { public: true },
    schema: {
      tags: ['account security'],
      summary: 'Verify an e-mail address with the token of the mailed link (single use, expires)',
      security: [],
      body: TokenBodySchema,
      response: { 200: VerifiedEmailSchema, ...errors(400, 409) }
    }
  }, async (request) => {
    const verified = await app.db.transaction().execute(async (trx) => {
      const row = await consumeToken(trx, 'verify_email', request.body.token)
      if (row === undefined || row.email === null) return undefined
      try {
        return await markEmailVerified(trx, row.user_id, row.email) ? row.email : undefined
      } catch (error) {
        if ((error as { code?: string }).code === '23505') throw new AuthEmailTakenError()
        throw error
      }
    })
    if (verified === undefined) throw new AuthInvalidLinkTokenError()
    return { email: verified }
  })
}
