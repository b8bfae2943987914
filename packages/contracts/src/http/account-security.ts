import Type, { type Static } from 'typebox'

/** Long passwords are taken whole; the same bounds as at registration. */
const NewPassword = Type.String({ minLength: 8, maxLength: 1024 })
const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254, description: 'an e-mail address' })
/** A secret from a mail's link: 43 characters of base64url (32 random bytes). */
const LinkToken = Type.String({ minLength: 1, maxLength: 128, description: 'the token from the link in the mail' })
/** A 6-digit code from an authenticator app, or a recovery code (`xxxx-xxxx-xxxx-xxxx`). */
const TwoFactorCode = Type.String({ minLength: 6, maxLength: 32, description: 'a 6-digit code from the authenticator app, or an unused recovery code' })

/** How the account can sign in and be reached: `GET /auth/security`. */
export const AccountSecuritySchema = Type.Object({
  email: Type.Union([Type.String(), Type.Null()], { description: 'the address mails go to; null when none' }),
  emailVerified: Type.Boolean({ description: 'false until the link sent to `email` is opened' }),
  hasPassword: Type.Boolean({ description: 'false for an account made by signing in with a provider that never set one' }),
  twoFactorEnabled: Type.Boolean(),
  recoveryCodesLeft: Type.Integer({ minimum: 0, description: 'unused recovery codes (0 without two-factor)' })
})
export type AccountSecurity = Static<typeof AccountSecuritySchema>

export const SetEmailBodySchema = Type.Object({ email: Email }, { additionalProperties: false })
export type SetEmailBody = Static<typeof SetEmailBodySchema>

/** The address a link verified. */
export const VerifiedEmailSchema = Type.Object({ email: Type.String() })
export type VerifiedEmail = Static<typeof VerifiedEmailSchema>

export const TokenBodySchema = Type.Object({ token: LinkToken }, { additionalProperties: false })
export type TokenBody = Static<typeof TokenBodySchema>

export const ForgotPasswordBodySchema = Type.Object({
  login: Type.String({ minLength: 1, maxLength: 254, description: 'the username or the verified e-mail address' })
}, { additionalProperties: false })
export type ForgotPasswordBody = Static<typeof ForgotPasswordBodySchema>

/** The one answer to a reset request, whether the account exists or not. */
export const ForgotPasswordResponseSchema = Type.Object({
  message: Type.Literal('If an account with a verified e-mail address matches, a link to choose a new password is on its way.')
})
export type ForgotPasswordResponse = Static<typeof ForgotPasswordResponseSchema>

export const ResetPasswordBodySchema = Type.Object({ token: LinkToken, password: NewPassword }, { additionalProperties: false })
export type ResetPasswordBody = Static<typeof ResetPasswordBodySchema>

export const ChangePasswordBodySchema = Type.Object({
  currentPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'required when the account has a password' })),
  newPassword: NewPassword
}, { additionalProperties: false })
export type ChangePasswordBody = Static<typeof ChangePasswordBodySchema>

export const SessionInfoSchema = Type.Object({
  id: Type.String({ description: 'names the session in DELETE /auth/sessions/{id}; not the cookie value' }),
  createdAt: Type.String({ format: 'date-time', description: 'when it was signed in' }),
  lastUsedAt: Type.String({ format: 'date-time', description: 'its last request, to the second' }),
  clientIp: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean({ description: 'the session of this request' })
})
export type SessionInfo = Static<typeof SessionInfoSchema>

export const SessionListSchema = Type.Object({ items: Type.Array(SessionInfoSchema) })
export type SessionList = Static<typeof SessionListSchema>

export const SessionIdParamsSchema = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) })
export type SessionIdParams = Static<typeof SessionIdParamsSchema>

export const EndedSessionsSchema = Type.Object({ ended: Type.Integer({ minimum: 0 }) })
export type EndedSessions = Static<typeof EndedSessionsSchema>

/** Login answers 202 with this when the account has two-factor: POST /auth/login/two-factor completes it. */
export const TwoFactorChallengeSchema = Type.Object({
  twoFactorRequired: Type.Literal(true),
  challenge: Type.String({ description: 'single use; send it with a code to POST /auth/login/two-factor' }),
  expiresAt: Type.String({ format: 'date-time' })
})
export type TwoFactorChallenge = Static<typeof TwoFactorChallengeSchema>

export const TwoFactorLoginBodySchema = Type.Object({
  challenge: Type.String({ minLength: 1, maxLength: 128 }),
  code: TwoFactorCode
}, { additionalProperties: false })
export type TwoFactorLoginBody = Static<typeof TwoFactorLoginBodySchema>

export const TwoFactorSetupSchema = Type.Object({
  secret: Type.String({ description: 'base32, for typing into an app by hand' }),
  otpauthUri: Type.String({ description: 'otpauth://totp/… for authenticator apps' }),
  qrCodeDataUrl: Type.String({ description: 'the otpauth URI as a QR code, a data:image/png URL' })
})
export type TwoFactorSetup = Static<typeof TwoFactorSetupSchema>

export const TwoFactorCodeBodySchema = Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$', description: 'the 6-digit code the app shows now' }) }, { additionalProperties: false })
export type TwoFactorCodeBody = Static<typeof TwoFactorCodeBodySchema>

export const RecoveryCodesSchema = Type.Object({
  recoveryCodes: Type.Array(Type.String(), { minItems: 10, maxItems: 10, description: 'shown once; each signs in once in place of a code' })
})
export type RecoveryCodes = Static<typeof RecoveryCodesSchema>

export const DisableTwoFactorBodySchema = Type.Object({
  code: Type.Optional(TwoFactorCode),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 }))
}, { additionalProperties: false, description: 'a code (or recovery code), or the password' })
export type DisableTwoFactorBody = Static<typeof DisableTwoFactorBodySchema>

