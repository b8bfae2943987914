import { createHmac, randomUUID } from 'node:crypto'
import { twitchTime } from './clock.js'

/**
 * EventSub over webhooks (docs/providers.md §1.5): the subscriptions of each client, what each type
 * needs, and the messages Twitch posts to a callback — signed, retried, and revoked when a callback
 * keeps failing.
 */

export type EventSubStatus =
  | 'enabled'
  | 'webhook_callback_verification_pending'
  | 'webhook_callback_verification_failed'
  | 'notification_failures_exceeded'
  | 'authorization_revoked'
  | 'moderator_removed'
  | 'user_removed'
  | 'version_removed'

export const EVENTSUB_STATUSES: readonly EventSubStatus[] = [
  'enabled', 'webhook_callback_verification_pending', 'webhook_callback_verification_failed', 'notification_failures_exceeded',
  'authorization_revoked', 'moderator_removed', 'user_removed', 'version_removed'
]

/** Statuses under which a subscription still counts against the client's cost. */
const LIVE_STATUSES: ReadonlySet<EventSubStatus> = new Set(['enabled', 'webhook_callback_verification_pending'])

export interface TypeRule {
  /** The condition's keys, all required and no others. */
  condition: readonly string[]
  /** The condition key naming the user who must have authorized the client, with this scope. */
  authorizer?: { key: string, scope: string }
}

/** The types the simulator serves, by type and version. channel.follow v1 is retired: only v2 exists. */
export const EVENTSUB_TYPES: Record<string, Record<string, TypeRule>> = {
  'channel.follow': { 2: { condition: ['broadcaster_user_id', 'moderator_user_id'], authorizer: { key: 'moderator_user_id', scope: 'moderator:read:followers' } } },
  'channel.subscribe': { 1: { condition: ['broadcaster_user_id'], authorizer: { key: 'broadcaster_user_id', scope: 'channel:read:subscriptions' } } },
  'channel.subscription.gift': { 1: { condition: ['broadcaster_user_id'], authorizer: { key: 'broadcaster_user_id', scope: 'channel:read:subscriptions' } } },
  'channel.cheer': { 1: { condition: ['broadcaster_user_id'], authorizer: { key: 'broadcaster_user_id', scope: 'bits:read' } } },
  'stream.online': { 1: { condition: ['broadcaster_user_id'] } },
  'stream.offline': { 1: { condition: ['broadcaster_user_id'] } },
  'user.authorization.revoke': { 1: { condition: ['client_id'] } }
}

/** Every client may spend this much; a subscription costs 0 when its user authorized the client, else 1. */
export const MAX_TOTAL_COST = 10_000

export interface EventSubSubscription {
  id: string
  clientId: string
  status: EventSubStatus
  type: string
  version: string
  condition: Record<string, string>
  createdAt: number
  callback: string
  secret: string
  cost: number
}

export function subscriptionJson (sub: EventSubSubscription) {
  return {
    id: sub.id,
    status: sub.status,
    type: sub.type,
    version: sub.version,
    condition: sub.condition,
    created_at: twitchTime(sub.createdAt),
    transport: { method: 'webhook', callback: sub.callback },
    cost: sub.cost
  }
}

export type MessageType = 'webhook_callback_verification' | 'notification' | 'revocation'

/** How deliveries misbehave, for testing a receiver's checks (docs/providers.md §1.5). */
export type DeliveryMode = 'normal' | 'bad-signature' | 'stale-timestamp' | 'duplicate-id'
export const DELIVERY_MODES: readonly DeliveryMode[] = ['normal', 'bad-signature', 'stale-timestamp', 'duplicate-id']

export interface DeliveryRecord {
  messageId: string
  messageType: MessageType
  subscriptionId: string
  subscriptionType: string
  /** 0 for the first attempt. */
  retry: number
  /** The callback's HTTP status, or 0 when it could not be reached or timed out. */
  status: number
  at: number
}

export interface DeliverySettings {
  /** Ms to wait before each retry of a notification; its length is the number of retries. */
  retryDelaysMs: readonly number[]
  /** Ms a callback has to answer. */
  timeoutMs: number
}

export const DEFAULT_DELIVERY: DeliverySettings = { retryDelaysMs: [1_000, 5_000, 15_000], timeoutMs: 10_000 }

/** `sha256=` + hex HMAC-SHA256(secret, message id + timestamp + raw body). */
export function eventsubSignature (secret: string, messageId: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(messageId + timestamp + body).digest('hex')}`
}

/** Twitch's message timestamps are RFC 3339 with nanoseconds; milliseconds padded the same way. */
function messageTimestamp (ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z')
}

/** The subscriptions and the deliveries of one simulator. */
export class EventSub {
  readonly subscriptions = new Map<string, EventSubSubscription>()
  readonly deliveries: DeliveryRecord[] = []
  mode: DeliveryMode = 'normal'
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly aborts = new Set<AbortController>()
  private closed = false
  private inFlight = 0
  private readonly idleWaiters: Array<() => void> = []

  constructor (readonly settings: DeliverySettings = DEFAULT_DELIVERY) {}

  ofClient (clientId: string): EventSubSubscription[] {
    return [...this.subscriptions.values()].filter((s) => s.clientId === clientId).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
  }

  totals (clientId: string): { total: number, total_cost: number, max_total_cost: number } {
    const subs = this.ofClient(clientId)
    return {
      total: subs.length,
      total_cost: subs.filter((s) => LIVE_STATUSES.has(s.status)).reduce((sum, s) => sum + s.cost, 0),
      max_total_cost: MAX_TOTAL_COST
    }
  }

  isLive (sub: EventSubSubscription): boolean {
    return LIVE_STATUSES.has(sub.status)
  }

  create (fields: Omit<EventSubSubscription, 'id' | 'status' | 'createdAt'>, now: number): EventSubSubscription {
    const sub: EventSubSubscription = { ...fields, id: randomUUID(), status: 'webhook_callback_verification_pending', createdAt: now }
    this.subscriptions.set(sub.id, sub)
    this.track(this.verify(sub))
    return sub
  }

  /** Enabled subscriptions of a type whose condition has these values. */
  matching (type: string, condition: Record<string, string>): EventSubSubscription[] {
    return [...this.subscriptions.values()].filter((s) => s.status === 'enabled' && s.type === type &&
      Object.entries(condition).every(([k, v]) => s.condition[k] === v))
  }

  /** Sends an event to every enabled subscription of its type and condition. */
  notify (type: string, condition: Record<string, string>, event: Record<string, unknown>): number {
    const subs = this.matching(type, condition)
    for (const sub of subs) this.track(this.deliverNotification(sub, event))
    return subs.length
  }

  /** Ends a subscription for a reason, and tells its callback (a `revocation` message). */
  revoke (sub: EventSubSubscription, status: EventSubStatus): void {
    const wasEnabled = sub.status === 'enabled'
    sub.status = status
    if (wasEnabled) this.track(this.send(sub, 'revocation', { subscription: subscriptionJson(sub) }, 0).then(() => undefined))
  }

  /** Resolves when no delivery is in flight or waiting for a retry. */
  async idle (): Promise<void> {
    if (this.inFlight === 0) return
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
  }

  close (): void {
    this.closed = true
    for (const timer of this.timers) clearTimeout(timer)
    for (const abort of this.aborts) abort.abort()
    this.timers.clear()
  }

  private track (work: Promise<void>): void {
    this.inFlight++
    work.catch(() => undefined).finally(() => {
      this.inFlight--
      if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve()
    })
  }

  private sleep (ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        resolve()
      }, ms)
      this.timers.add(timer)
    })
  }

  /**
   * The challenge: the callback must answer 2xx with exactly the challenge as its body (Twitch
   * wants it as text/plain); anything else fails the subscription.
   */
  private async verify (sub: EventSubSubscription): Promise<void> {
    const challenge = randomUUID().replace(/-/g, '')
    const result = await this.post(sub, 'webhook_callback_verification', { challenge, subscription: subscriptionJson(sub) }, randomUUID(), 0)
    if (sub.status !== 'webhook_callback_verification_pending') return
    const contentType = result.contentType?.split(';')[0]?.trim().toLowerCase()
    sub.status = result.status >= 200 && result.status < 300 && result.body === challenge && contentType === 'text/plain'
      ? 'enabled'
      : 'webhook_callback_verification_failed'
  }

  /** A notification with its retries; when every retry fails, the subscription is revoked. */
  private async deliverNotification (sub: EventSubSubscription, event: Record<string, unknown>): Promise<void> {
    const payload = { subscription: subscriptionJson(sub), event }
    const messageId = randomUUID()
    for (let retry = 0; retry <= this.settings.retryDelaysMs.length; retry++) {
      if (retry > 0) await this.sleep(this.settings.retryDelaysMs[retry - 1]!)
      if (this.closed || sub.status !== 'enabled') return
      const result = await this.post(sub, 'notification', payload, messageId, retry)
      if (this.mode === 'duplicate-id' && result.ok) await this.post(sub, 'notification', payload, messageId, retry)
      if (result.ok) return
    }
    this.revoke(sub, 'notification_failures_exceeded')
  }

  private async send (sub: EventSubSubscription, type: MessageType, payload: unknown, retry: number): Promise<boolean> {
    return (await this.post(sub, type, payload, randomUUID(), retry)).ok
  }

  private async post (sub: EventSubSubscription, type: MessageType, payload: unknown, messageId: string, retry: number): Promise<{ ok: boolean, status: number, body?: string, contentType?: string }> {
    if (this.closed) return { ok: false, status: 0 }
    const body = JSON.stringify(payload)
    // Message timestamps follow real time (not the simulated clock, which tests move by hours): the
    // receiver compares them with its own clock.
    const sentAt = this.mode === 'stale-timestamp' ? Date.now() - 11 * 60_000 : Date.now()
    const timestamp = messageTimestamp(sentAt)
    let signature = eventsubSignature(sub.secret, messageId, timestamp, body)
    if (this.mode === 'bad-signature') signature = signature.slice(0, -4) + (signature.endsWith('0000') ? '1111' : '0000')
    const abort = new AbortController()
    this.aborts.add(abort)
    const timer = setTimeout(() => abort.abort(), this.settings.timeoutMs)
    let record: DeliveryRecord = { messageId, messageType: type, subscriptionId: sub.id, subscriptionType: sub.type, retry, status: 0, at: Date.now() }
    try {
      const res = await fetch(sub.callback, {
        method: 'POST',
        signal: abort.signal,
        redirect: 'manual',
        headers: {
          'Content-Type': 'application/json',
          'Twitch-Eventsub-Message-Id': messageId,
          'Twitch-Eventsub-Message-Retry': String(retry),
          'Twitch-Eventsub-Message-Type': type,
          'Twitch-Eventsub-Message-Signature': signature,
          'Twitch-Eventsub-Message-Timestamp': timestamp,
          'Twitch-Eventsub-Subscription-Type': sub.type,
          'Twitch-Eventsub-Subscription-Version': sub.version
        },
        body
      })
      const text = await res.text()
      record = { ...record, status: res.status }
      return { ok: res.status >= 200 && res.status < 300, status: res.status, body: text, contentType: res.headers.get('content-type') ?? undefined }
    } catch {
      return { ok: false, status: 0 }
    } finally {
      clearTimeout(timer)
      this.aborts.delete(abort)
      if (!this.closed) this.deliveries.push(record)
    }
  }
}
