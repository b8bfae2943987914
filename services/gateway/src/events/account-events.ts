import { AUTH_STREAM, ExportReadyV1 } from '@pulse/contracts'
import { assertEvent, type EventBus } from '@pulse/service-kit'
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream'

/** An account event for a user's open /events streams: its name and its payload without the user id. */
export interface AccountEvent {
  event: 'export.ready'
  data: Record<string, unknown>
}

/**
 * Follows auth's `auth.export.ready.v1` with an ordered (ephemeral) consumer from now on: every
 * gateway replica sees every one and hands it to the user's open /events streams. Sent without an
 * event id (the ids of /events are the metrics stream's sequences, which these must not disturb), so
 * they are not replayed after a reconnection: the dashboard's settings page lists the exports anyway.
 */
export class AccountEvents {
  private readonly listeners = new Map<string, Set<(e: AccountEvent) => void>>()
  private messages: ConsumerMessages | undefined
  private stopped = false

  constructor (private readonly bus: EventBus, private readonly log: { warn: (obj: object, msg: string) => void }) {}

  async start (): Promise<void> {
    const subject = this.bus.subject(ExportReadyV1.subject)
    const stream = this.bus.streamName(AUTH_STREAM)
    const run = async () => {
      while (!this.stopped) {
        try {
          // A consumer object takes one consume() only, so each round gets a new one.
          const consumer = await this.bus.js.consumers.get(stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.New })
          this.messages = await consumer.consume()
          for await (const msg of this.messages) {
            try {
              const payload = JSON.parse(Buffer.from(msg.data).toString('utf8')) as unknown
              assertEvent(ExportReadyV1, payload)
              const { userId, ...data } = payload
              for (const listener of this.listeners.get(userId) ?? []) listener({ event: 'export.ready', data })
            } catch (err) {
              this.log.warn({ err, subject: msg.subject }, 'account event skipped')
            }
          }
        } catch (err) {
          if (!this.stopped) this.log.warn({ err }, 'account events interrupted; resuming')
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
