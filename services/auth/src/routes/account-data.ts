import {
  DataExportListSchema, DataExportParamsSchema, DataExportResponseSchema, DeleteAccountBodySchema, ErrorResponseSchema, ExportRequestedV1, UserDeletedV1,
  type DataExport
} from '@pulse/contracts'
import { enqueueEvent, requireIdentity, sessionCookieName } from '@pulse/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { sql, type Kysely } from 'kysely'
import Type from 'typebox'
import type { AuthConfig } from '../config.js'
import type { Database } from '../db/database.js'
import {
  AuthExportNotFoundError, AuthExportNotReadyError, AuthPasswordRequiredError, AuthProviderUnavailableError, AuthReauthenticationRequiredError, AuthUserNotFoundError
} from '../errors.js'
import type { LoginThrottle } from '../login-throttle.js'
import { confirmPassword } from '../password-confirmation.js'
import type { Passwords } from '../passwords.js'
import { ProviderUnavailable } from '../providers/http.js'
import { deleteUserRows, findExport, findPendingExport, insertExport, listExports, type ExportRow } from '../repositories/account-data.js'
import { listConnectionsOfUser } from '../repositories/connections.js'
import { grantLeaseName, releaseLease, takeLease, type Lease } from '../repositories/leases.js'
import { currentUser } from '../current-user.js'
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

function toDataExport (row: Omit<ExportRow, 'archive'>): DataExport {
  return { id: row.id, status: row.status, requestedAt: row.requested_at.toISOString(), expiresAt: row.expires_at?.toISOString() ?? null }
}

/** The account's own data: exporting it, and deleting it for good. */
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
    const { userId, user } = await currentUser(db, request)
    const password = request.body.password
    const connections = await listConnectionsOfUser(db, userId)

    if (user.password_hash !== null) {
      if (password === undefined) throw new AuthPasswordRequiredError()
      await confirmPassword({ throttle, passwords }, request, reply, { username: user.username, passwordHash: user.password_hash }, password, 'password')
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

  /**
   * Asks for an export of everything Pulse holds about the user: answered at once (202), prepared in
   * the background (events/exports.ts), announced by ExportReadyV1 (a live event on /events). One at
   * a time: while one is pending, asking again answers that one.
   */
  app.post('/auth/me/exports', {
    schema: { tags: ['accounts'], summary: 'Export my data: prepares a zip archive to download', response: { 202: DataExportResponseSchema, ...errors(401, 404) } }
  }, async (request, reply) => {
    const { userId } = requireIdentity(request)
    const row = await db.transaction().execute(async (trx) => {
      // Serialised per user, so two clicks make one export.
      await sql`select pg_advisory_xact_lock(hashtext('pulse-auth-export'), hashtext(${userId}))`.execute(trx)
      if (await findUserById(trx, userId) === undefined) throw new AuthUserNotFoundError()
      const pending = await findPendingExport(trx, userId)
      if (pending !== undefined) return pending
      const created = await insertExport(trx, userId)
      await enqueueEvent(trx, ExportRequestedV1, { userId, exportId: created.id, requestedAt: created.requested_at.toISOString() })
      return created
    })
    app.outbox.wake()
    return reply.code(202).send({ export: toDataExport(row) })
  })

  app.get('/auth/me/exports', {
    schema: { tags: ['accounts'], summary: 'My data exports that have not expired, newest first', response: { 200: DataExportListSchema, ...errors(401) } }
  }, async (request) => {
    const { userId } = requireIdentity(request)
    return { items: (await listExports(db, userId)).map(toDataExport) }
  })

  app.get('/auth/me/exports/:id/archive', {
    schema: {
      tags: ['accounts'],
      summary: 'Download a ready export (a zip of JSON files); only its owner, until it expires',
      params: DataExportParamsSchema,
      // The archive is sent as bytes (Fastify serialises no Buffer); the schema documents it.
      response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'the zip archive (application/zip)' }), ...errors(400, 401, 404, 409) }
    }
  }, async (request, reply) => {
    const { userId } = requireIdentity(request)
    const row = await findExport(db, userId, request.params.id)
    if (row === undefined) throw new AuthExportNotFoundError()
    if (row.status !== 'ready' || row.archive === null) throw new AuthExportNotReadyError()
    void reply.header('content-type', 'application/zip')
    void reply.header('content-disposition', `attachment; filename="pulse-export-${row.requested_at.toISOString().slice(0, 10)}.zip"`)
    void reply.header('cache-control', 'no-store')
    return reply.send(row.archive)
  })
}
