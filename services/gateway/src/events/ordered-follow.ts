import type { EventBus } from '@pulse/service-kit'
import type { ConsumerMessages, JsMsg, OrderedConsumerOptions } from '@nats-io/jetstream'

export interface OrderedFollowOptions {
  stream: string
  filter: string
  /** Where each (re)created consumer starts: asked again after every interruption. */
  start: () => Partial<OrderedConsumerOptions>
  /** Handles one message; what it throws is logged as `<name> event skipped` and the next follows. */
  handle: (msg: JsMsg) => void
  /** Names the follow in the log (`live`, `account`). */
  name: string
  log: { warn: (obj: object, msg: string) => void }
}

/**
 * Follows a stream with an ordered (ephemeral) consumer until stopped, so every gateway replica
 * sees every message. An interruption (a NATS server restart, a lost connection) is logged and the
 * follow resumes half a second later from `start()`. A consumer object takes one consume() only,
 * so each round gets a new one. Returns the stop.
 */
export function followOrdered (bus: EventBus, options: OrderedFollowOptions): () => void {
  let messages: ConsumerMessages | undefined
  let stopped = false
  const run = async () => {
    while (!stopped) {
      try {
        const consumer = await bus.js.consumers.get(options.stream, { filter_subjects: options.filter, ...options.start() })
        messages = await consumer.consume()
        for await (const msg of messages) {
          try {
            options.handle(msg)
          } catch (err) {
            options.log.warn({ err, subject: msg.subject }, `${options.name} event skipped`)
          }
        }
      } catch (err) {
        if (!stopped) options.log.warn({ err }, `${options.name} events interrupted; resuming`)
      }
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
  void run()
  return () => {
    stopped = true
    messages?.stop()
  }
}

/** The listeners of each user's open /events streams. */
export class UserListeners<E> {
  private readonly listeners = new Map<string, Set<(e: E) => void>>()

  /** Hands `event` to every listener of the user. */
  emit (userId: string, event: E): void {
    for (const listener of this.listeners.get(userId) ?? []) listener(event)
  }

  /** Adds a listener of the user; returns its removal. */
  add (userId: string, listener: (e: E) => void): () => void {
    const set = this.listeners.get(userId) ?? new Set()
    set.add(listener)
    this.listeners.set(userId, set)
    return () => {
      set.delete(listener)
      if (set.size === 0) this.listeners.delete(userId)
    }
  }
}
