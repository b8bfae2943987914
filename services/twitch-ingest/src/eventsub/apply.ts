import {
  TwitchAuthorizationRevokedV1, TwitchChannelActivityV1, TwitchConnectionRevokedV1, TwitchRefreshedV1, TwitchStreamChangedV1,
  type EventPayload, type TwitchEventSubMessageV1
} from '@pulse/contracts'
import { markInvalidated, type Clock, type IngestDb } from '@pulse/ingest-kit'
import { enqueueEvent } from '@pulse/service-kit'
import type { FastifyBaseLogger } from 'fastify'
import type { Kysely, Transaction } from 'kysely'
import { randomUUID } from 'node:crypto'
import type { Database } from '../db/database.js'
import { markApplied, lockTrackedByBroadcaster } from '../repositories/eventsub.js'
import { closeSession, openSession } from '../repositories/stream-sessions.js'
import { storeLiveSnapshot } from '../repositories/twitch.js'

type Message = EventPayload<typeof TwitchEventSubMessageV1>
type Json = Record<string, unknown>

export interface ApplyOptions {
  db: Kysely<Database>
  now: Clock
  log: FastifyBaseLogger
  /** The outbox has events to send. */
  wakeOutbox: () => void
  /** Twitch's subscriptions need another look (a revocation, a revoked user). */
  reconcileSoon: () => void
}

const str = (value: unknown): string | undefined => typeof value === 'string' && value !== '' ? value : undefined
const TIERS = new Set(['1000', '2000', '3000'])

/**
 * Applies a verified EventSub message from the stream. The message id is recorded in the same
 * transaction as its effects, so a redelivery — on this replica or another, even at the same
 * moment — changes nothing the second time.
 */
export function eventsubApplier ({ db, now, log, wakeOutbox, reconcileSoon }: ApplyOptions) {
  /** The tracked account of the Twitch user an event names, locked; undefined when none is connected and valid. */
  const connectedAccount = async (trx: Transaction<Database>, providerUserId: string | undefined) => {
    if (providerUserId === undefined) return undefined
    const account = await lockTrackedByBroadcaster(trx, providerUserId)
    return account === undefined || account.invalidated_at !== null ? undefined : account
  }

  const channelEvent = async (trx: Transaction<Database>, message: Message, event: Json): Promise<boolean> => {
    const account = await connectedAccount(trx, str(event.broadcaster_user_id))
    if (account === undefined) return false
    const broadcasterId = account.provider_user_id
    const userId = account.user_id
    const at = new Date(now())
    const activity = async (kind: 'follow' | 'subscribe' | 'gift' | 'cheer', amount: number, snapshotId: string | undefined) => {
      if (snapshotId !== undefined) {
        await enqueueEvent(trx, TwitchRefreshedV1, { userId, provider: 'twitch', capturedAt: at.toISOString(), snapshotId })
      }
      await enqueueEvent(trx, TwitchChannelActivityV1, { userId, provider: 'twitch', kind, amount, snapshotId: snapshotId ?? null, at: at.toISOString() })
    }
    switch (message.subscriptionType) {
      case 'channel.follow':
        await activity('follow', 1, await storeLiveSnapshot(trx, userId, randomUUID(), at, { followers: 1 }))
        return true
      case 'channel.subscribe': {
        const tier = str(event.tier)
        if (tier === undefined || !TIERS.has(tier)) return false
        await activity('subscribe', 1, await storeLiveSnapshot(trx, userId, randomUUID(), at, { subscription: tier as '1000' | '2000' | '3000' }))
        return true
      }
      case 'channel.subscription.gift':
        // Each gifted subscription also arrives as a channel.subscribe: the counts move there.
        await activity('gift', typeof event.total === 'number' ? Math.max(0, Math.floor(event.total)) : 0, undefined)
        return true
      case 'channel.cheer':
        await activity('cheer', typeof event.bits === 'number' ? Math.max(0, Math.floor(event.bits)) : 0, undefined)
        return true
      case 'stream.online': {
        const streamId = str(event.id)
        const startedAt = Date.parse(str(event.started_at) ?? '')
        if (streamId === undefined || Number.isNaN(startedAt)) return false
        const sessionId = await openSession(trx, { userId, broadcasterId, streamId, startedAt: new Date(startedAt) })
        if (sessionId !== undefined) await enqueueEvent(trx, TwitchStreamChangedV1, { userId, provider: 'twitch', state: 'online', sessionId, at: new Date(startedAt).toISOString() })
        return sessionId !== undefined
      }
      case 'stream.offline': {
        // stream.offline carries no time: the session ends when the message is applied.
        const sessionId = await closeSession(trx, userId, at)
        if (sessionId !== undefined) await enqueueEvent(trx, TwitchStreamChangedV1, { userId, provider: 'twitch', state: 'offline', sessionId, at: at.toISOString() })
        return sessionId !== undefined
      }
      default:
        return false
    }
  }

  const authorizationRevoked = async (trx: Transaction<Database>, message: Message, event: Json): Promise<boolean> => {
    const account = await connectedAccount(trx, str(event.user_id))
    if (account === undefined) return false
    const providerUserId = account.provider_user_id
    const revokedAt = message.sentAt
    await markInvalidated(trx as unknown as IngestDb, account.user_id, 'authorization_revoked', new Date(revokedAt))
    // Auth deletes the tokens; the user hears of it on /events.
    await enqueueEvent(trx, TwitchAuthorizationRevokedV1, { userId: account.user_id, provider: 'twitch', providerUserId, revokedAt })
    await enqueueEvent(trx, TwitchConnectionRevokedV1, { userId: account.user_id, provider: 'twitch', revokedAt })
    return true
  }

  return async (message: Message): Promise<void> => {
    const outcome = await db.transaction().execute(async (trx) => {
      if (!await markApplied(trx, message.messageId)) return 'duplicate'
      if (message.messageType === 'revocation') return 'revocation'
      const event = message.body.event as Json
      if (message.subscriptionType === 'user.authorization.revoke') return await authorizationRevoked(trx, message, event) ? 'revoked' : 'ignored'
      return await channelEvent(trx, message, event) ? 'applied' : 'ignored'
    })
    if (outcome === 'applied' || outcome === 'revoked') wakeOutbox()
    if (outcome === 'revocation' || outcome === 'revoked') reconcileSoon()
    if (outcome === 'revocation') {
      const subscription = message.body.subscription as Json
      log.warn({ type: message.subscriptionType, status: subscription.status }, 'twitch revoked an eventsub subscription')
    }
    log.debug({ messageId: message.messageId, type: message.subscriptionType, outcome }, 'eventsub message applied')
  }
}
