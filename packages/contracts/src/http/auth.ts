import Type, { type Static } from 'typebox'

import { ProviderNameSchema } from '../provider.js'

export const ConnectionSchema = Type.Object({
  provider: ProviderNameSchema,
  providerUserId: Type.String(),
  providerLogin: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('invalid')], { description: 'invalid: the grant was revoked or failed validation; connect again' }),
  connectedAt: Type.String({ format: 'date-time' })
})
export type Connection = Static<typeof ConnectionSchema>

export const UserSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  username: Type.String(),
  displayName: Type.String(),
  role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
  timezone: Type.String({ description: 'IANA time zone, e.g. Europe/Paris' }),
  connections: Type.Array(ConnectionSchema)
})
export type User = Static<typeof UserSchema>

export const UserResponseSchema = Type.Object({ user: UserSchema })
export type UserResponse = Static<typeof UserResponseSchema>

const Username = Type.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$', description: 'letters, digits, _ . -; unique regardless of case' })
/** Long passwords are taken whole; the upper bound only keeps hashing bounded, and is said, never silent. */
const Password = Type.String({ minLength: 8, maxLength: 1024 })
const DisplayName = Type.String({ minLength: 1, maxLength: 64 })
const Timezone = Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone name' })

export const RegisterBodySchema = Type.Object({
  username: Username,
  password: Password,
  displayName: Type.Optional(DisplayName),
  timezone: Type.Optional(Timezone)
}, { additionalProperties: false })
export type RegisterBody = Static<typeof RegisterBodySchema>

export const LoginBodySchema = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: 1024 })
}, { additionalProperties: false })
export type LoginBody = Static<typeof LoginBodySchema>

export const PatchMeBodySchema = Type.Object({
  displayName: Type.Optional(DisplayName),
  timezone: Type.Optional(Timezone)
}, { additionalProperties: false })
export type PatchMeBody = Static<typeof PatchMeBodySchema>
