import { DeleteAccountBodySchema, ErrorResponseSchema, UserDeletedV1 } from '@pulse/contracts'
import { enqueueEvent, requireIdentity, sessionCookieName } from '@pulse/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import Type from 'typebox'
import type { AuthConfig } from '../config.js'
import type { Database } from '../db/database.js'
import {
  AuthPasswordRequiredError, AuthProviderUnavailableError, AuthReauthenticationRequiredError, AuthTooManyAttemptsError,
  AuthUserNotFoundError, AuthWrongPasswordError
} from '../errors.js'
import type { LoginThrottle } from '../login-throttle.js'
import type { Passwords } from '../passwords.js'
import { ProviderUnavailable } from '../providers/http.js'
import { deleteUserRows } from '../repositories/account-data.js'
import { listConnectionsOfUser } from '../repositories/connections.js'
import { grantLeaseName, releaseLease, takeLease, type Lease } from '../repositories/leases.js'
import { findUserById } from '../repositories/users.js'
import type { TokenStore } from '../tokens/token-store.js'
import { endUserSessions } from '../user-sessions.js'
import type { Revoker } from './connections.js'

export interface AccountDataRoutesOptions {
  config: AuthConfig
  db: Kysely<Database>
  passwords: Passwords
  throttle: LoginThrottle
  store: TokenStore
  revokers: Record<'twitch' | 'twitter', Revoker>
  leaseTtlMs: number
}

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorResponseSchema]))
const PROVIDER_NAMES = { twitch: 'Twitch', twitter: 'X' } as const

/** The account's own data: deleting it for good. */
export default async function accountDataRoutes (fastify: FastifyInstance, options: AccountDataRoutesOptions) {
  const { config, db, passwords, throttle, store, revokers, leaseTtlMs } = options
  // Every route's request and reply types come from its schema.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const cookieName = sessionCookieName(config.PUBLIC_URL)
  const secure = new URL(config.PUBLIC_URL).protocol === 'https:'

  /**
   * Deletes the account. Confirmed by the password, or, for an account without one, by a session
   * started by a provider sign-in within ACCOUNT_DELETE_REAUTH_S. Every provider grant is revoked
   * at its provider first (each under its grant's lease, so no token refresh runs meanwhile; a
   * provider that cannot be reached answers 503 and nothing is deleted). Then the user row (with its
   * connections and tokens) is deleted and UserDeletedV1 written in one transaction; every service
   * deletes its data of the user from its durable consumer. Every session of the user ends at once.
   */
  app.delete('/auth/me', {
    schema: {
      tags: ['accounts'],
      summary: 'Delete the account and all its data (confirm with the password, or a fresh provider sign-in)',
      body: DeleteAccountBodySchema,
      response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 429, 503) }
    }
  }, async (request, reply) => {
    const { userId } = requireIdentity(request)
    const password = request.body.password
    const user = await findUserById(db, userId)
    if (user === undefined) throw new AuthUserNotFoundError()
    const connections = await listConnectionsOfUser(db, userId)

    if (user.password_hash !== null) {
      if (password === undefined) throw new AuthPasswordRequiredError()
      // The same budget as logins: a stolen session cannot guess the password any faster here.
      const verdict = await throttle.attempt(user.username, request.clientIp)
      if (!verdict.allowed) {
        void reply.header('retry-after', String(verdict.retryAfterSeconds))
        throw new AuthTooManyAttemptsError()
      }
      if (!await passwords.verify(user.password_hash, password)) throw new AuthWrongPasswordError()
      await throttle.succeeded(user.username, request.clientIp)
    } else {
      // No password: only a provider sign-in starts a session of this account (connecting while
      // logged in keeps the session), so a young session is a fresh provider sign-in.
      const startedAt = request.session?.get('createdAt')
      const provider = PROVIDER_NAMES[connections[0]?.provider ?? 'twitch']
      if (typeof startedAt !== 'number' || Date.now() - startedAt > config.ACCOUNT_DELETE_REAUTH_S * 1000) {
        throw new AuthReauthenticationRequiredError(provider, config.ACCOUNT_DELETE_REAUTH_S)
      }
    }

    const leases: Lease[] = []
    try {
      for (const connection of connections) {
        const providerName = PROVIDER_NAMES[connection.provider]
        const lease = await takeLease(db, grantLeaseName(userId, connection.provider), leaseTtlMs, leaseTtlMs)
        if (lease === undefined) throw new AuthProviderUnavailableError(providerName)
        leases.push(lease)
        try {
          await revokers[connection.provider](store.open(connection))
        } catch (error) {
          if (error instanceof ProviderUnavailable) {
            request.log.warn({ provider: connection.provider, call: error.call, status: error.status }, 'could not revoke at the provider')
            throw new AuthProviderUnavailableError(providerName)
          }
          throw error
        }
      }
      const deleted = await db.transaction().execute(async (trx) => {
        if (!await deleteUserRows(trx, userId)) return false
        await enqueueEvent(trx, UserDeletedV1, { userId, deletedAt: new Date().toISOString() })
        return true
      })
      if (!deleted) throw new AuthUserNotFoundError()
    } finally {
      await Promise.all(leases.map(async (lease) => { await releaseLease(db, lease).catch(() => {}) }))
    }
    app.outbox.wake()
    // The consumer of UserDeletedV1 ends them too (and again): this makes it immediate.
    await endUserSessions(app.redis, config.REDIS_PREFIX, userId)
    void reply.clearCookie(cookieName, { path: '/', httpOnly: true, sameSite: 'lax', secure })
    request.log.info({ connections: connections.length }, 'account deleted')
    return reply.code(204).send(null)
  })
}
