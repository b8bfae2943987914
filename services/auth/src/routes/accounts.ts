import {
  ErrorResponseSchema, LoginBodySchema, PatchMeBodySchema, RegisterBodySchema, TwoFactorChallengeSchema, UserResponseSchema
} from '@pulse/contracts'
import { requireIdentity, sessionCookieName } from '@pulse/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import type { AuthConfig } from '../config.js'
import {
  AuthInvalidCredentialsError, AuthInvalidTimezoneError, AuthTooManyRegistrationsError, AuthUserNotFoundError, AuthUsernameTakenError
} from '../errors.js'
import type { AddressLimit, LoginThrottle } from '../login-throttle.js'
import { takeLoginAttempt } from '../password-confirmation.js'
import type { Passwords } from '../passwords.js'
import { listConnectionsOfUser, toConnection } from '../repositories/connections.js'
import { findUserById, findUserByUsername, insertUser, toUser, updateUser } from '../repositories/users.js'
import { isTwoFactorEnabled } from '../repositories/two-factor.js'
import type { RedisSessionStore } from '../session-store.js'
import type { TwoFactorCodes } from '../two-factor/two-factor.js'
import { startSession } from '../sessions.js'
import { canonicalTimezone } from '../timezones.js'

export interface AccountRoutesOptions {
  config: AuthConfig
  passwords: Passwords
  throttle: LoginThrottle
  registrations: AddressLimit
  sessions: RedisSessionStore
  /** The second step of a login for accounts with two-factor on (routes/two-factor.ts). */
  twoFactor: TwoFactorCodes
}

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorResponseSchema]))

export default async function accountRoutes (fastify: FastifyInstance, { config, passwords, throttle, registrations, sessions, twoFactor }: AccountRoutesOptions) {
  // Every route's request and reply types come from its schema.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const cookieName = sessionCookieName(config.PUBLIC_URL)
  const secure = new URL(config.PUBLIC_URL).protocol === 'https:'

  function timezoneOf (name: string): string {
    const tz = canonicalTimezone(name)
    if (tz === undefined) throw new AuthInvalidTimezoneError(name)
    return tz
  }

  app.post('/auth/register', {
    config: { public: true },
    schema: { tags: ['accounts'], summary: 'Create an account and log in', security: [], body: RegisterBodySchema, response: { 201: UserResponseSchema, ...errors(400, 409, 429, 503) } }
  }, async (request, reply) => {
    const body = request.body
    const timezone = timezoneOf(body.timezone ?? 'UTC')
    const verdict = await registrations.attempt(request.clientIp)
    if (!verdict.allowed) {
      void reply.header('retry-after', String(verdict.retryAfterSeconds))
      throw new AuthTooManyRegistrationsError()
    }
    const passwordHash = await passwords.hash(body.password)
    const user = await insertUser(app.db, { username: body.username, displayName: body.displayName ?? body.username, passwordHash, timezone })
    if (user === undefined) throw new AuthUsernameTakenError()
    await startSession(request, user)
    return reply.code(201).send({ user: toUser(user) })
  })

  app.post('/auth/login', {
    config: { public: true },
    schema: { tags: ['accounts'], summary: 'Log in (202: a two-factor code is needed, see POST /auth/login/two-factor)', security: [], body: LoginBodySchema, response: { 200: UserResponseSchema, 202: TwoFactorChallengeSchema, ...errors(400, 401, 429, 503) } }
  }, async (request, reply) => {
    const { username, password } = request.body
    await takeLoginAttempt(throttle, reply, username, request.clientIp)
    const user = await findUserByUsername(app.db, username)
    const ok = await passwords.verify(user?.password_hash ?? null, password)
    if (!ok || user === undefined) throw new AuthInvalidCredentialsError()
    await throttle.succeeded(username, request.clientIp)
    if (user.password_hash !== null && passwords.needsRehash(user.password_hash)) {
      await updateUser(app.db, user.id, { passwordHash: await passwords.hash(password) })
    }
    if (await isTwoFactorEnabled(app.db, user.id)) {
      return reply.code(202).send({ twoFactorRequired: true as const, ...await twoFactor.startChallenge(user.id) })
    }
    await startSession(request, user)
    return { user: toUser(user, (await listConnectionsOfUser(app.db, user.id)).map(toConnection)) }
  })

  app.post('/auth/logout', {
    config: { public: true },
    schema: { tags: ['accounts'], summary: 'Log out: the session is removed on the server', response: { 204: Type.Null(), ...errors(503) } }
  }, async (request, reply) => {
    if (typeof request.session?.get('userId') === 'string') await request.session.destroy()
    void reply.clearCookie(cookieName, { path: '/', httpOnly: true, sameSite: 'lax', secure })
    return reply.code(204).send(null)
  })

  app.get('/auth/me', {
    schema: { tags: ['accounts'], summary: 'The logged-in user', response: { 200: UserResponseSchema, ...errors(401, 404) } }
  }, async (request) => {
    const { userId } = requireIdentity(request)
    const [user, connections] = await Promise.all([findUserById(app.db, userId), listConnectionsOfUser(app.db, userId)])
    if (user === undefined) throw new AuthUserNotFoundError()
    return { user: toUser(user, connections.map(toConnection)) }
  })

  app.patch('/auth/me', {
    schema: { tags: ['accounts'], summary: 'Change display name or time zone', body: PatchMeBodySchema, response: { 200: UserResponseSchema, ...errors(400, 401, 404) } }
  }, async (request) => {
    const { userId } = requireIdentity(request)
    const body = request.body
    const timezone = body.timezone !== undefined ? timezoneOf(body.timezone) : undefined
    const user = await updateUser(app.db, userId, { displayName: body.displayName, timezone })
    if (user === undefined) throw new AuthUserNotFoundError()
    if (timezone !== undefined) await sessions.updateUserSessions(userId, { timezone })
    return { user: toUser(user, (await listConnectionsOfUser(app.db, userId)).map(toConnection)) }
  })
}
