import {
  METRICS_STREAM, TwitchChannelActivityV1, TwitchConnectionRevokedV1, TwitchRefreshFailedV1, TwitchRefreshedV1, TwitchStreamChangedV1, TwitterRefreshFailedV1, TwitterRefreshedV1, type EventContract
} from '@pulse/contracts'
import { assertEvent, type EventBus } from '@pulse/service-kit'
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream'
import { nanos } from '@nats-io/nats-core'
import { followOrdered, UserListeners } from './ordered-follow.js'

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
  private readonly listeners = new UserListeners<LiveEvent>()
  private stopFollow: (() => void) | undefined

  constructor (private readonly bus: EventBus, private readonly options: LiveEventsOptions) {}

  async start (): Promise<void> {
    const stream = this.bus.streamName(METRICS_STREAM)
    const filter = this.bus.subject('metrics.>')
    const bySubject = new Map(LIVE.map(([contract, name]) => [this.bus.subject(contract.subject), { contract, name }]))
    // The last stream sequence handed on: a consumer recreated after an interruption starts after it.
    let lastSeq = await this.sequenceBefore(stream, filter, new Date(Date.now() - this.options.replayWindowMs))
    this.stopFollow = followOrdered(this.bus, {
      stream,
      filter,
      // Always by sequence, never by start time: the client recreates an ordered consumer after
      // a server restart from the configuration the server returned, with the start time still
      // in it beside the new start sequence, which the server refuses (docs/pitfalls.md, "NATS
      // and JetStream").
      start: () => ({ deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lastSeq + 1 }),
      name: 'live',
      log: this.options.log,
      handle: (msg) => {
        lastSeq = msg.seq
        const live = bySubject.get(msg.subject)
        if (live === undefined) return
        const payload = JSON.parse(Buffer.from(msg.data).toString('utf8')) as unknown
        assertEvent(live.contract, payload)
        const { userId, ...data } = payload as { userId: string } & Record<string, unknown>
        this.add({ id: msg.seq, userId, event: live.name, data, at: Date.now() })
      }
    })
  }

  /**
   * The stream sequence just before the first event at or after `since`. A short-lived consumer
   * starting at that time tells it (the server finds the sequence; the NATS servers Pulse supports
   * have no direct "sequence at time" lookup), and is deleted at once.
   */
  private async sequenceBefore (stream: string, filter: string, since: Date): Promise<number> {
    const probe = await this.bus.jsm.consumers.add(stream, {
      filter_subject: filter,
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: since.toISOString(),
      ack_policy: AckPolicy.None,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: nanos(60_000)
    })
    await this.bus.jsm.consumers.delete(stream, probe.name).catch(() => {})
    return probe.delivered.stream_seq
  }

  stop (): void {
    this.stopFollow?.()
  }

  private add (event: LiveEvent) {
    const list = this.recent.get(event.userId) ?? []
    list.push(event)
    const horizon = Date.now() - this.options.replayWindowMs
    while (list.length > 0 && (list.length > this.options.perUser || list[0]!.at < horizon)) list.shift()
    this.recent.set(event.userId, list)
    this.listeners.emit(event.userId, event)
  }

  /** The user's events after `lastEventId` still in the window, then every new one; returns the unsubscribe. */
  subscribe (userId: string, lastEventId: number | undefined, listener: (e: LiveEvent) => void): () => void {
    if (lastEventId !== undefined) {
      for (const e of this.recent.get(userId) ?? []) if (e.id > lastEventId) listener(e)
    }
    return this.listeners.add(userId, listener)
  }
}
