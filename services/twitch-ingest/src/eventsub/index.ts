import {
  AUTH_STREAM, ConnectionLinkedV1, ConnectionUnlinkedV1, TWITCH_EVENTSUB_STREAM, TwitchEventSubMessageV1, type EventPayload
} from '@pulse/contracts'
import type { Clock } from '@pulse/ingest-kit'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { TwitchIngestConfig } from '../config.js'
import type { Database } from '../db/database.js'
import type { AppTokenProvider } from '../helix/app-token.js'
import { deleteOldMessageIds } from '../repositories/eventsub.js'
import { eventsubApplier } from './apply.js'
import { EventSubClient } from './client.js'
import { Reconciler, type ReconcileOutcome } from './reconcile.js'
import { streamSampler } from './sampler.js'

export interface TwitchEventSub {
  client: EventSubClient
  /** One reconciliation now (skipped while another replica holds the lease). */
  reconcile: () => Promise<ReconcileOutcome>
  /** One sampling round of the live channels now. */
  sampleNow: () => Promise<number>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Present only when TWITCH_EVENTSUB_ENABLED. */
    twitchEventSub?: TwitchEventSub
  }
}

export interface EventSubOptions {
  config: TwitchIngestConfig
  secret: string
  now: Clock
  appToken: AppTokenProvider
}

/** The two durable consumers, shared by every replica. */
export const EVENTSUB_DURABLES = { messages: 'twitch-ingest-eventsub', connections: 'twitch-ingest-eventsub-connections' } as const

/**
 * EventSub's jobs besides the webhook (docs/providers.md §1.5): the consumer that applies verified
 * messages, the reconciliation of Twitch's subscriptions (at start, periodically, after a
 * revocation and when a channel is connected or disconnected) and the viewer sampling of live
 * channels. Polling refreshes stay on as the safety net, less often.
 */
export async function registerEventSub (app: FastifyInstance, { config, secret, now, appToken }: EventSubOptions): Promise<void> {
  const db = app.db as Kysely<Database>
  const log = app.log.child({ part: 'eventsub' })
  const client = new EventSubClient({
    apiUrl: config.TWITCH_API_URL, clientId: config.TWITCH_CLIENT_ID, appToken, timeoutMs: config.TWITCH_HTTP_TIMEOUT_MS,
    callbackUrl: config.TWITCH_EVENTSUB_CALLBACK_URL, secret
  })
  const reconciler = new Reconciler({ db, client, clientId: config.TWITCH_CLIENT_ID, callbackUrl: config.TWITCH_EVENTSUB_CALLBACK_URL, log, leaseMs: 5 * 60_000 })
  const sampleNow = streamSampler({
    db, apiUrl: config.TWITCH_API_URL, clientId: config.TWITCH_CLIENT_ID, appToken, timeoutMs: config.TWITCH_HTTP_TIMEOUT_MS,
    now, intervalMs: config.TWITCH_STREAM_SAMPLE_S * 1000, log
  })

  const timers = new Set<NodeJS.Timeout>()
  let closing = false
  const reconcileQuietly = async () => {
    try {
      await reconciler.run()
    } catch (error) {
      log.warn({ err: error }, 'eventsub reconciliation failed; the next one will try again')
    }
  }
  // A revocation arrives in a burst with others: one reconciliation shortly after covers them all.
  let soon: NodeJS.Timeout | undefined
  const reconcileSoon = () => {
    if (closing || soon !== undefined) return
    soon = setTimeout(() => {
      soon = undefined
      void reconcileQuietly()
    }, 1000)
  }
  const every = (ms: number, job: () => Promise<unknown>) => {
    const timer = setInterval(() => { if (!closing) void job() }, ms)
    timer.unref()
    timers.add(timer)
  }

  const apply = eventsubApplier({ db, now, log, wakeOutbox: () => app.outbox.wake(), reconcileSoon })
  app.decorate('twitchEventSub', { client, reconcile: () => reconciler.run(), sampleNow })

  app.addHook('onReady', async () => {
    await app.nats.ensureStream(TWITCH_EVENTSUB_STREAM)
    await app.nats.consume([TwitchEventSubMessageV1], { durable: EVENTSUB_DURABLES.messages, stream: TWITCH_EVENTSUB_STREAM, concurrency: 4 }, async (payload) => {
      await apply(payload as EventPayload<typeof TwitchEventSubMessageV1>)
    })
    // A channel connected or disconnected: its subscriptions are made or deleted. The kit's own
    // consumer tracks the account; until it has, this one waits (a redelivery).
    await app.nats.consume([ConnectionLinkedV1, ConnectionUnlinkedV1], { durable: EVENTSUB_DURABLES.connections, stream: AUTH_STREAM }, async (payload, contract, ctx) => {
      const event = payload as EventPayload<typeof ConnectionLinkedV1> | EventPayload<typeof ConnectionUnlinkedV1>
      if (event.provider !== 'twitch') return
      const tracked = await db.selectFrom('tracked_accounts').select('linked_at').where('user_id', '=', event.userId).executeTakeFirst()
      const caughtUp = contract === ConnectionLinkedV1
        ? tracked !== undefined && tracked.linked_at.getTime() >= Date.parse((event as EventPayload<typeof ConnectionLinkedV1>).linkedAt)
        : tracked === undefined || tracked.linked_at.getTime() > Date.parse((event as EventPayload<typeof ConnectionUnlinkedV1>).unlinkedAt)
      if (!caughtUp && ctx.redeliveryCount < 20) {
        ctx.retryLater(500)
        return
      }
      const outcome = await reconciler.run()
      if (!outcome.ran) ctx.retryLater(2000)
    })
    void reconcileQuietly()
    every(config.TWITCH_EVENTSUB_RECONCILE_S * 1000, reconcileQuietly)
    every(config.TWITCH_STREAM_SAMPLE_S * 1000, async () => {
      try {
        await sampleNow()
      } catch (error) {
        log.warn({ err: error }, 'stream sampling failed')
      }
    })
    every(10 * 60_000, async () => {
      await deleteOldMessageIds(db, new Date(Date.now() - 2 * config.TWITCH_EVENTSUB_MAX_AGE_S * 1000)).catch((error: unknown) => { log.warn({ err: error }, 'could not forget old eventsub message ids') })
    })
  })
  app.addHook('preClose', async () => {
    closing = true
    if (soon !== undefined) clearTimeout(soon)
    for (const timer of timers) clearInterval(timer)
  })
}
