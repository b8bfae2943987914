import { AUTH_STREAM, ExportReadyV1, NOTIFY_STREAM, NotificationV1, type EventContract, type StreamContract } from '@pulse/contracts'
import { assertEvent, type EventBus } from '@pulse/service-kit'
import { DeliverPolicy } from '@nats-io/jetstream'
import { followOrdered, UserListeners } from './ordered-follow.js'

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
  private readonly listeners = new UserListeners<AccountEvent>()
  private readonly stops: Array<() => void> = []

  constructor (private readonly bus: EventBus, private readonly log: { warn: (obj: object, msg: string) => void }) {}

  start (): void {
    for (const { contract, stream, event } of SOURCES) {
      this.stops.push(followOrdered(this.bus, {
        stream: this.bus.streamName(stream),
        filter: this.bus.subject(contract.subject),
        start: () => ({ deliver_policy: DeliverPolicy.New }),
        name: 'account',
        log: this.log,
        handle: (msg) => {
          const payload = JSON.parse(Buffer.from(msg.data).toString('utf8')) as unknown
          assertEvent(contract, payload)
          const { userId, ...data } = payload as { userId: string } & Record<string, unknown>
          this.listeners.emit(userId, { event, data })
        }
      }))
    }
  }

  stop (): void {
    for (const stop of this.stops) stop()
  }

  /** Every new account event of the user; returns the unsubscribe. */
  subscribe (userId: string, listener: (e: AccountEvent) => void): () => void {
    return this.listeners.add(userId, listener)
  }
}
