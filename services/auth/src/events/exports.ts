import { AUTH_STREAM, ExportReadyV1, ExportRequestedV1, UserDataRpcV1, type EventPayload, type UserDataService } from '@pulse/contracts'
import { enqueueEvent, requestReply, RequestReplyError } from '@pulse/service-kit'
import type { FastifyInstance } from 'fastify'
import { strToU8, zipSync } from 'fflate'
import type { Kysely } from 'kysely'
import type { AuthConfig } from '../config.js'
import type { Database } from '../db/database.js'
import { deleteExpiredExports, findExportById, markExportReady } from '../repositories/account-data.js'
import { listConnectionsOfUser, toConnection } from '../repositories/connections.js'
import { findUserById, toUser } from '../repositories/users.js'

/** Each service's file in the archive, and the name of its records there. */
const PARTS: Array<{ service: UserDataService, file: string, key: string }> = [
  { service: 'mood', file: 'mood.json', key: 'entries' },
  { service: 'contact', file: 'contact.json', key: 'messages' },
  { service: 'twitch-ingest', file: 'twitch.json', key: 'snapshots' },
  { service: 'twitter-ingest', file: 'twitter.json', key: 'snapshots' }
]

/** A service could not give its part now: the export waits and asks again. */
class PartUnavailable extends Error {}

/** Deliveries of one export request at most: with EXPORT_RETRY_MS between them, hours of a service being down. */
const EXPORT_MAX_DELIVER = 500

/**
 * Prepares the exports users ask for, from a durable consumer: every service's part is asked for
 * over NATS request-reply (UserDataRpcV1, page by page), the account's own part read here, and the
 * zip stored with its expiry together with ExportReadyV1, in one transaction. When a service does
 * not answer, nothing is stored: the request comes back after EXPORT_RETRY_MS, so an archive marked
 * ready is always complete. Expired archives are deleted every minute.
 */
export function prepareExports (app: FastifyInstance, config: AuthConfig): void {
  const db = app.db as Kysely<Database>

  async function gather (userId: string, service: UserDataService): Promise<unknown[]> {
    const records: unknown[] = []
    let cursor: string | undefined
    for (;;) {
      let reply
      try {
        reply = await requestReply(app.nats, UserDataRpcV1, service, { userId, ...(cursor === undefined ? {} : { cursor }) }, { timeoutMs: config.EXPORT_REQUEST_TIMEOUT_MS })
      } catch (error) {
        if (error instanceof RequestReplyError) throw new PartUnavailable(`${service}: ${error.message}`)
        throw error
      }
      if (!reply.ok) throw new PartUnavailable(`${service}: ${reply.error}: ${reply.message}`)
      records.push(...reply.records)
      if (reply.nextCursor === null) return records
      cursor = reply.nextCursor
    }
  }

  async function prepare (event: EventPayload<typeof ExportRequestedV1>): Promise<'ready' | 'gone'> {
    const pending = await findExportById(db, event.exportId)
    if (pending === undefined || pending.status !== 'pending') return 'gone' // done already, or the user was deleted
    const user = await findUserById(db, event.userId)
    if (user === undefined) return 'gone'
    const connections = (await listConnectionsOfUser(db, event.userId)).map(toConnection)
    const files: Record<string, Uint8Array> = {
      // The public view of the account: never the password hash nor a provider token.
      'account.json': strToU8(JSON.stringify({ user: toUser(user, connections), createdAt: user.created_at, exportedAt: new Date().toISOString() }, null, 2))
    }
    for (const part of PARTS) {
      files[part.file] = strToU8(JSON.stringify({ [part.key]: await gather(event.userId, part.service) }, null, 2))
    }
    const archive = zipSync(files)
    const ready = await db.transaction().execute(async (trx) => {
      const row = await markExportReady(trx, event.exportId, archive, config.EXPORT_TTL_S)
      if (row === undefined) return false
      await enqueueEvent(trx, ExportReadyV1, { userId: event.userId, exportId: row.id, expiresAt: row.expires_at!.toISOString() })
      return true
    })
    if (!ready) return 'gone'
    app.outbox.wake()
    return 'ready'
  }

  let sweeper: NodeJS.Timeout | undefined
  app.addHook('onReady', async () => {
    await app.nats.consume([ExportRequestedV1], {
      durable: 'auth-exports',
      stream: AUTH_STREAM,
      ackWaitMs: Math.max(60_000, 4 * PARTS.length * config.EXPORT_REQUEST_TIMEOUT_MS),
      maxDeliver: Math.max(app.nats.maxDeliver, EXPORT_MAX_DELIVER)
    }, async (payload, _contract, ctx) => {
      const event = payload as EventPayload<typeof ExportRequestedV1>
      try {
        const outcome = await prepare(event)
        app.log.info({ exportId: event.exportId, outcome }, outcome === 'ready' ? 'data export ready' : 'data export no longer pending')
      } catch (error) {
        if (!(error instanceof PartUnavailable)) throw error
        app.log.warn({ exportId: event.exportId, reason: error.message, retryInMs: config.EXPORT_RETRY_MS }, 'data export delayed: a service did not give its part')
        ctx.retryLater(config.EXPORT_RETRY_MS)
      }
    })
    sweeper = setInterval(() => {
      deleteExpiredExports(db).catch((error: unknown) => { app.log.warn({ err: error }, 'expired exports could not be deleted') })
    }, 60_000)
    sweeper.unref()
  })
  app.addHook('preClose', async () => { clearInterval(sweeper) })
}
