import { AUTH_STREAM, ExportReadyV1, NOTIFY_STREAM, NotificationV1, type EventContract, type StreamContract } from '@pulse/contracts'
import { assertEvent, type EventBus } from '@pulse/service-kit'
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream'

/** An account event for a user's open /events streams: its name and its payload without the user id. */
export interface AccountEvent {
  event: 'export.ready' | 'notification'
  data: Record<string, unknown>
}

/** What is followed: auth's export-ready event and notify's notifications (its `live` channel). */
const SOURCES: ReadonlyArray<{ contract: EventContract, stream: StreamContract, event: AccountEvent['event'] }> = [
  { contract: ExportReadyV1, stream: AUTH_STREAM, event: 'export.ready' },
  { contract: NotificationV1, stream: NOTIFY_STREAM, event: 'notification' }
]

/**
 * Follows auth's `auth.export.ready.v1` and notify's `notify.notification.v1`, each with an ordered
 * (ephemeral) consumer from now on: every gateway replica sees every one and hands it to the user's
 * open /events streams. Sent without an
 * event id (the ids of /events are the metrics stream's sequences, which these must not disturb), so
 * they are not replayed after a reconnection: the dashboard's settings page lists the exports anyway.
 */
export class AccountEvents {
  private readonly listeners = new Map<string, Set<(e: AccountEvent) => void>>()
  private readonly messages = new Set<ConsumerMessages>()
  private stopped = false

  constructor (private readonly bus: EventBus, private readonly log: { warn: (obj: object, msg: string) => void }) {}

  start (): void {
    for (const source of SOURCES) this.follow(source)
  }

  private follow ({ contract, stream: streamContract, event }: typeof SOURCES[number]): void {
    const subject = this.bus.subject(contract.subject)
    const stream = this.bus.streamName(streamContract)
    const run = async () => {
      while (!this.stopped) {
        let messages: ConsumerMessages | undefined
        try {
          // A consumer object takes one consume() only, so each round gets a new one.
          const consumer = await this.bus.js.consumers.get(stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.New })
          messages = await consumer.consume()
          this.messages.add(messages)
          for await (const msg of messages) {
            try {
              const payload = JSON.parse(Buffer.from(msg.data).toString('utf8')) as unknown
              assertEvent(contract, payload)
              const { userId, ...data } = payload as { userId: string } & Record<string, unknown>
              for (const listener of this.listeners.get(userId) ?? []) listener({ event, data })
            } catch (err) {
              this.log.warn({ err, subject: msg.subject }, 'account event skipped')
            }
          }
        } catch (err) {
          if (!this.stopped) this.log.warn({ err }, 'account events interrupted; resuming')
        } finally {
          if (messages !== undefined) this.messages.delete(messages)
        }
        if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, 500))
      }
    }
    void run()
  }

  stop (): void {
    this.stopped = true
    for (const messages of this.messages) messages.stop()
  }

  /** Every new account event of the user; returns the unsubscribe. */
  subscribe (userId: string, listener: (e: AccountEvent) => void): () => void {
    const set = this.listeners.get(userId) ?? new Set()
    set.add(listener)
    this.listeners.set(userId, set)
    return () => {
      set.delete(listener)
      if (set.size === 0) this.listeners.delete(userId)
    }
  }
}
