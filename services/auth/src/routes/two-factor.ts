import {
  DisableTwoFactorBodySchema, ErrorResponseSchema, RecoveryCodesSchema, TwoFactorCodeBodySchema, TwoFactorLoginBodySchema, TwoFactorSetupSchema, UserResponseSchema
} from '@pulse/contracts'
import { requireIdentity } from '@pulse/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply } from 'fastify'
import Type from 'typebox'
import {
  AuthInvalidChallengeError, AuthInvalidTwoFactorCodeError, AuthProofRequiredError, AuthTooManyCodesError, AuthTwoFactorAlreadyEnabledError, AuthTwoFactorNotEnabledError, AuthTwoFactorNotStartedError, AuthWrongCodeError
} from '../errors.js'
import type { LoginThrottle } from '../login-throttle.js'
import { confirmPassword } from '../password-confirmation.js'
import type { Passwords } from '../passwords.js'
import { listConnectionsOfUser, toConnection } from '../repositories/connections.js'
import { deleteTwoFactor, enableTwoFactor, findTwoFactor, replaceRecoveryCodes, savePendingTwoFactor } from '../repositories/two-factor.js'
import { currentUser } from '../current-user.js'
import { findUserById, toUser } from '../repositories/users.js'
import { startSession } from '../sessions.js'
import { newRecoveryCodes, type Totp } from '../two-factor/totp.js'
import type { TwoFactorCodes } from '../two-factor/two-factor.js'

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorResponseSchema]))

export interface TwoFactorRoutesOptions {
  totp: Totp
  codes: TwoFactorCodes
  passwords: Passwords
  throttle: LoginThrottle
}

export default async function twoFactorRoutes (fastify: FastifyInstance, { totp, codes, passwords, throttle }: TwoFactorRoutesOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  /** A throttled code check; the error to throw when it is wrong depends on where it is asked. */
  async function codeIsRight (reply: FastifyReply, userId: string, code: string, clientIp: string): Promise<boolean> {
    const verdict = await codes.check(userId, code, clientIp)
    if (!verdict.allowed) {
      void reply.header('retry-after', String(verdict.retryAfterSeconds))
      throw new AuthTooManyCodesError()
    }
    return verdict.ok === true
  }

  app.post('/auth/two-factor/setup', {
    schema: {
      tags: ['account security'],
      summary: 'Start enrolling an authenticator app: a new secret, as an otpauth URI and a QR code',
      response: { 200: TwoFactorSetupSchema, ...errors(401, 404, 409) }
    }
  }, async (request) => {
    const { userId, user } = await currentUser(app.db, request)
    if ((await findTwoFactor(app.db, userId))?.enabled_at != null) throw new AuthTwoFactorAlreadyEnabledError()
    const secret = totp.newSecret()
    await savePendingTwoFactor(app.db, userId, totp.seal(userId, secret))
    const otpauthUri = totp.uri(secret, user.username)
    return { secret, otpauthUri, qrCodeDataUrl: await totp.qrCode(otpauthUri) }
  })

  app.post('/auth/two-factor/enable', {
    schema: {
      tags: ['account security'],
      summary: 'Finish enrolling with a first code: two-factor is on; ten recovery codes, shown this once',
      body: TwoFactorCodeBodySchema,
      response: { 200: RecoveryCodesSchema, ...errors(400, 401, 403, 409, 429) }
    }
  }, async (request, reply) => {
    const { userId } = requireIdentity(request)
    const row = await findTwoFactor(app.db, userId)
    if (row === undefined) throw new AuthTwoFactorNotStartedError()
    if (row.enabled_at !== null) throw new AuthTwoFactorAlreadyEnabledError()
    if (!await codeIsRight(reply, userId, request.body.code, request.clientIp)) throw new AuthWrongCodeError()
    const recoveryCodes = newRecoveryCodes()
    await app.db.transaction().execute(async (trx) => {
      await enableTwoFactor(trx, userId)
      await replaceRecoveryCodes(trx, userId, recoveryCodes)
    })
    return { recoveryCodes }
  })

  app.post('/auth/two-factor/disable', {
    schema: {
      tags: ['account security'],
      summary: 'Turn two-factor off, with a code (or a recovery code) or the password',
      body: DisableTwoFactorBodySchema,
      response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409, 429) }
    }
  }, async (request, reply) => {
    const { userId, user } = await currentUser(app.db, request)
    if ((await findTwoFactor(app.db, userId))?.enabled_at == null) throw new AuthTwoFactorNotEnabledError()
    const { code, password } = request.body
    if (code !== undefined) {
      if (!await codeIsRight(reply, userId, code, request.clientIp)) throw new AuthWrongCodeError()
    } else if (password !== undefined && user.password_hash !== null) {
      await confirmPassword({ throttle, passwords }, request, reply, { username: user.username, passwordHash: user.password_hash }, password, 'password')
    } else {
      throw new AuthProofRequiredError()
    }
    await deleteTwoFactor(app.db, userId)
    return reply.code(204).send(null)
  })

  /**
   * The second step of a login (docs/api.md, "Two-factor login"): the challenge POST /auth/login
   * answered with, and a code. A wrong code leaves the challenge open until it expires (throttled
   * like passwords); the right one closes it and logs in, once.
   */
  app.post('/auth/login/two-factor', {
    config: { public: true },
    schema: {
      tags: ['accounts'],
      summary: 'Complete a login that asked for a two-factor code',
      security: [],
      body: TwoFactorLoginBodySchema,
      response: { 200: UserResponseSchema, ...errors(400, 401, 429, 503) }
    }
  }, async (request, reply) => {
    const { challenge, code } = request.body
    const userId = await codes.challengeUser(challenge)
    if (userId === undefined) throw new AuthInvalidChallengeError()
    if (!await codeIsRight(reply, userId, code, request.clientIp)) throw new AuthInvalidTwoFactorCodeError()
    if (!await codes.closeChallenge(challenge)) throw new AuthInvalidChallengeError()
    const user = await findUserById(app.db, userId)
    if (user === undefined) throw new AuthInvalidChallengeError()
    await startSession(request, user)
    return { user: toUser(user, (await listConnectionsOfUser(app.db, userId)).map(toConnection)) }
  })
}
