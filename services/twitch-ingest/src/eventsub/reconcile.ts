import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { activeBroadcasters, releaseLease, takeLease } from '../repositories/eventsub.js'
import type { EventSubClient, HelixEventSubSubscription } from './client.js'

/** The channel types Pulse subscribes to for every connected channel (docs/providers.md §1.5). */
export const CHANNEL_TYPES: ReadonlyArray<{ type: string, version: string, condition: (broadcasterId: string) => Record<string, string> }> = [
  // v2 needs a moderator: the broadcaster is one of their own channel.
  { type: 'channel.follow', version: '2', condition: (id) => ({ broadcaster_user_id: id, moderator_user_id: id }) },
  { type: 'channel.subscribe', version: '1', condition: (id) => ({ broadcaster_user_id: id }) },
  { type: 'channel.subscription.gift', version: '1', condition: (id) => ({ broadcaster_user_id: id }) },
  { type: 'channel.cheer', version: '1', condition: (id) => ({ broadcaster_user_id: id }) },
  { type: 'stream.online', version: '1', condition: (id) => ({ broadcaster_user_id: id }) },
  { type: 'stream.offline', version: '1', condition: (id) => ({ broadcaster_user_id: id }) }
]

/** Subscriptions still alive at Twitch; any other status is an ended subscription to clear away. */
const LIVE = new Set(['enabled', 'webhook_callback_verification_pending'])

const LEASE = 'reconcile'

function keyOf (type: string, version: string, condition: Record<string, string>): string {
  return `${type}@${version}:${Object.keys(condition).sort().map((k) => `${k}=${condition[k]}`).join('&')}`
}

export interface ReconcileOutcome {
  ran: boolean
  created: number
  deleted: number
  refused: number
}

export interface ReconcilerOptions {
  db: Kysely<Database>
  client: EventSubClient
  clientId: string
  callbackUrl: string
  log: FastifyBaseLogger
  /** How long one run may hold the lease. */
  leaseMs: number
}

/**
 * Brings Twitch's subscriptions in line with the connected channels: creates what is missing
 * (deleted behind Pulse's back, revoked, never made), deletes what no connection needs and what
 * ended. One replica at a time holds the lease, so two replicas starting together create each
 * subscription once; Twitch's 409 on a duplicate is the second guard.
 */
export class Reconciler {
  private readonly holder = randomUUID()
  /** This replica's runs, one after another (the lease keeps other replicas out). */
  private queue: Promise<unknown> = Promise.resolve()

  constructor (private readonly options: ReconcilerOptions) {}

  async run (): Promise<ReconcileOutcome> {
    const run = this.queue.then(async () => await this.runOnce())
    this.queue = run.catch(() => {})
    return await run
  }

  private async runOnce (): Promise<ReconcileOutcome> {
    const { db, client, log } = this.options
    if (!await takeLease(db, LEASE, this.holder, this.options.leaseMs)) return { ran: false, created: 0, deleted: 0, refused: 0 }
    try {
      const wanted = new Map<string, { type: string, version: string, condition: Record<string, string> }>()
      const add = (type: string, version: string, condition: Record<string, string>) => wanted.set(keyOf(type, version, condition), { type, version, condition })
      add('user.authorization.revoke', '1', { client_id: this.options.clientId })
      for (const { broadcasterId } of await activeBroadcasters(db)) {
        for (const t of CHANNEL_TYPES) add(t.type, t.version, t.condition(broadcasterId))
      }

      // Only subscriptions that post to this deployment's callback are this deployment's business.
      const existing = (await client.list()).filter((s) => s.transport.method === 'webhook' && s.transport.callback === this.options.callbackUrl)
      const outcome: ReconcileOutcome = { ran: true, created: 0, deleted: 0, refused: 0 }
      const kept = new Set<string>()
      const unwanted: HelixEventSubSubscription[] = []
      for (const sub of existing) {
        const key = keyOf(sub.type, sub.version, sub.condition)
        if (LIVE.has(sub.status) && wanted.has(key) && !kept.has(key)) kept.add(key)
        else unwanted.push(sub)
      }
      for (const sub of unwanted) {
        await client.delete(sub.id)
        outcome.deleted++
      }
      for (const [key, want] of wanted) {
        if (kept.has(key)) continue
        const created = await client.create(want.type, want.version, want.condition)
        if (created === 'refused') {
          outcome.refused++
          log.warn({ type: want.type, condition: want.condition }, 'twitch refused an eventsub subscription (missing authorization or scope)')
        } else if (created === 'created') outcome.created++
      }
      if (outcome.created + outcome.deleted + outcome.refused > 0) log.info(outcome, 'eventsub subscriptions reconciled')
      return outcome
    } finally {
      await releaseLease(db, LEASE, this.holder).catch(() => {})
    }
  }
}
