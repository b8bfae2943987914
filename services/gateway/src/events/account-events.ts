import { AUTH_STREAM, ExportReadyV1 } from '@pulse/contracts'
import { assertEvent, type EventBus } from '@pulse/service-kit'
import { DeliverPolicy } from '@nats-io/jetstream'
import { followOrdered, UserListeners } from './ordered-follow.js'

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
  private readonly listeners = new UserListeners<AccountEvent>()
  private stopFollow: (() => void) | undefined

  constructor (private readonly bus: EventBus, private readonly log: { warn: (obj: object, msg: string) => void }) {}

  async start (): Promise<void> {
    this.stopFollow = followOrdered(this.bus, {
      stream: this.bus.streamName(AUTH_STREAM),
      filter: this.bus.subject(ExportReadyV1.subject),
      start: () => ({ deliver_policy: DeliverPolicy.New }),
      name: 'account',
      log: this.log,
      handle: (msg) => {
        const payload = JSON.parse(Buffer.from(msg.data).toString('utf8')) as unknown
        assertEvent(ExportReadyV1, payload)
        const { userId, ...data } = payload
        this.listeners.emit(userId, { event: 'export.ready', data })
      }
    })
  }

  stop (): void {
    this.stopFollow?.()
  }

  /** Every new account event of the user; returns the unsubscribe. */
  subscribe (userId: string, listener: (e: AccountEvent) => void): () => void {
    return this.listeners.add(userId, listener)
  }
}
