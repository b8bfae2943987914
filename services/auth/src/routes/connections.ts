import { ConnectionUnlinkedV1, ErrorResponseSchema, ProviderNameSchema } from '@pulse/contracts'
import { enqueueEvent, requireIdentity } from '@pulse/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import Type from 'typebox'
import type { Database, ProviderName } from '../db/database.js'
import { AuthLastSignInMethodError, AuthNotConnectedError, AuthProviderUnavailableError } from '../errors.js'
import { ProviderUnavailable } from '../providers/http.js'
import { deleteConnection, findConnection, listConnectionsOfUser, lockGrant } from '../repositories/connections.js'
import { findUserById } from '../repositories/users.js'
import { grantLeaseName, releaseLease, takeLease } from '../repositories/leases.js'
import type { ProviderTokens, TokenStore } from '../tokens/token-store.js'

/** Ends a grant at its provider; resolves once the provider no longer honours it (or never did). */
export type Revoker = (tokens: ProviderTokens) => Promise<void>

export interface ConnectionRoutesOptions {
  db: Kysely<Database>
  store: TokenStore
  revokers: Record<ProviderName, Revoker>
  /** How long an unlink may hold its grant's lease, and how long it waits for a refresh holding it. */
  leaseTtlMs: number
}

const ParamsSchema = Type.Object({ provider: ProviderNameSchema })

export default async function connectionRoutes (fastify: FastifyInstance, { db, store, revokers, leaseTtlMs }: ConnectionRoutesOptions) {
  // Every route's request and reply types come from its schema.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  /**
   * Disconnects a provider: the grant is revoked at the provider, then the row and its tokens are
   * deleted and ConnectionUnlinkedV1 is written in one transaction (the ingest service then deletes
   * the provider's data). The grant's lease is held throughout, so no refresh runs in between, and
   * no transaction is open while the provider answers. When the provider cannot be reached, nothing
   * changes (503): the API promises a revoked grant.
   */
  app.delete('/auth/connections/:provider', {
    schema: {
      tags: ['connections'],
      summary: 'Disconnect a provider: tokens revoked at the provider and deleted',
      params: ParamsSchema,
      response: { 204: Type.Null(), 400: ErrorResponseSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema, 503: ErrorResponseSchema }
    }
  }, async (request, reply) => {
    const { userId } = requireIdentity(request)
    const { provider } = request.params
    const providerName = provider === 'twitch' ? 'Twitch' : 'X'
    const lease = await takeLease(db, grantLeaseName(userId, provider), leaseTtlMs, leaseTtlMs)
    if (lease === undefined) throw new AuthProviderUnavailableError(providerName)
    let removed: boolean
    try {
      const row = await findConnection(db, userId, provider)
      if (row === undefined) throw new AuthNotConnectedError()
      // No account may lose its last way in: without a password, the last provider stays.
      if ((await findUserById(db, userId))?.password_hash === null && (await listConnectionsOfUser(db, userId)).length <= 1) throw new AuthLastSignInMethodError()
      try {
        await revokers[provider](store.open(row))
      } catch (error) {
        if (error instanceof ProviderUnavailable) {
          request.log.warn({ provider, call: error.call, status: error.status }, 'could not revoke at the provider')
          throw new AuthProviderUnavailableError(providerName)
        }
        throw error
      }
      removed = await db.transaction().execute(async (trx) => {
        await lockGrant(trx, userId, provider)
        const current = await findConnection(trx, userId, provider)
        if (current === undefined) return false
        await deleteConnection(trx, current.id)
        await enqueueEvent(trx, ConnectionUnlinkedV1, { userId, provider, providerUserId: current.provider_user_id, unlinkedAt: new Date().toISOString() })
        return true
      })
    } finally {
      await releaseLease(db, lease).catch(() => {})
    }
    if (removed) app.outbox.wake()
    request.log.info({ provider }, 'provider disconnected')
    return reply.code(204).send(null)
  })
}
