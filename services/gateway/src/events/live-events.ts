import {
  METRICS_STREAM, TwitchChannelActivityV1, TwitchConnectionRevokedV1, TwitchRefreshFailedV1, TwitchRefreshedV1, TwitchStreamChangedV1, TwitterRefreshFailedV1, TwitterRefreshedV1, type EventContract
} from '@pulse/contracts'
import { assertEvent, type EventBus } from '@pulse/service-kit'
import { DeliverPolicy, type ConsumerMessages } from 'nats'

/** What a dashboard receives: the event name, and its payload without the user id. */
export interface LiveEvent {
  id: number
  userId: string
  event: 'metrics.refreshed' | 'metrics.refresh.failed' | 'metrics.activity' | 'stream.changed' | 'connection.revoked'
  data: Record<string, unknown>
  at: number
}

const LIVE: [EventContract, LiveEvent['event']][] = [
  [TwitchRefreshedV1, 'metrics.refreshed'],
  [TwitterRefreshedV1, 'metrics.refreshed'],
  [TwitchRefreshFailedV1, 'metrics.refresh.failed'],
  [TwitterRefreshFailedV1, 'metrics.refresh.failed'],
  // Twitch EventSub (docs/providers.md §1.5): a follow, subscription, gift or cheer; the channel
  // going live or offline; the user taking back Pulse's access at Twitch.
  [TwitchChannelActivityV1, 'metrics.activity'],
  [TwitchStreamChangedV1, 'stream.changed'],
  [TwitchConnectionRevokedV1, 'connection.revoked']
]

export interface LiveEventsOptions {
  /** How far back a reconnecting client (Last-Event-ID) can catch up. */
  replayWindowMs: number
  /** Events kept per user within the window. */
  perUser: number
  log: { warn: (obj: object, msg: string) => void }
}

/**
 * Follows the metrics stream from `replayWindowMs` ago with an ordered (ephemeral) consumer: every
 * gateway replica sees every event, keeps each user's recent ones, and hands them to that user's
 * open /events connections. Event ids are JetStream stream sequences, the same on every replica,
 * so a client reconnecting with Last-Event-ID to another replica misses nothing within the window.
 */
export class LiveEvents {
  private readonly recent = new Map<string, LiveEvent[]>()
  private readonly listeners = new Map<string, Set<(e: LiveEvent) => void>>()
  private messages: ConsumerMessages | undefined
  private stopped = false

  constructor (private readonly bus: EventBus, private readonly options: LiveEventsOptions) {}

  async start (): Promise<void> {
    const bySubject = new Map(LIVE.map(([contract, name]) => [this.bus.subject(contract.subject), { contract, name }]))
    const consumer = await this.bus.js.consumers.get(this.bus.streamName(METRICS_STREAM), {
      filterSubjects: this.bus.subject('metrics.>'),
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(Date.now() - this.options.replayWindowMs).toISOString()
    })
    const run = async () => {
      while (!this.stopped) {
        try {
          this.messages = await consumer.consume()
          for await (const msg of this.messages) {
            const live = bySubject.get(msg.subject)
            if (live === undefined) continue
            try {
              const payload = JSON.parse(Buffer.from(msg.data).toString('utf8')) as unknown
              assertEvent(live.contract, payload)
              const { userId, ...data } = payload as { userId: string } & Record<string, unknown>
              this.add({ id: msg.seq, userId, event: live.name, data, at: Date.now() })
            } catch (err) {
              this.options.log.warn({ err, subject: msg.subject }, 'live event skipped')
            }
          }
        } catch (err) {
          if (!this.stopped) this.options.log.warn({ err }, 'live events interrupted; resuming')
        }
        if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, 500))
      }
    }
    void run()
  }

  stop (): void {
    this.stopped = true
    this.messages?.stop()
  }

  private add (event: LiveEvent) {
    const list = this.recent.get(event.userId) ?? []
    list.push(event)
    const horizon = Date.now() - this.options.replayWindowMs
    while (list.length > 0 && (list.length > this.options.perUser || list[0]!.at < horizon)) list.shift()
    this.recent.set(event.userId, list)
    for (const listener of this.listeners.get(event.userId) ?? []) listener(event)
  }

  /** The user's events after `lastEventId` still in the window, then every new one; returns the unsubscribe. */
  subscribe (userId: string, lastEventId: number | undefined, listener: (e: LiveEvent) => void): () => void {
    if (lastEventId !== undefined) {
      for (const e of this.recent.get(userId) ?? []) if (e.id > lastEventId) listener(e)
    }
    const set = this.listeners.get(userId) ?? new Set()
    set.add(listener)
    this.listeners.set(userId, set)
    return () => {
      set.delete(listener)
      if (set.size === 0) this.listeners.delete(userId)
    }
  }
}
