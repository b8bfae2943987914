import { ProviderRequestError, ProviderUnavailableError } from '@pulse/ingest-kit'
import type { AppTokenProvider } from '../helix/app-token.js'

/** A subscription as Get EventSub Subscriptions lists it (docs/providers.md §1.5). */
export interface HelixEventSubSubscription {
  id: string
  status: string
  type: string
  version: string
  condition: Record<string, string>
  transport: { method: string, callback?: string }
  cost: number
}

export interface EventSubClientOptions {
  /** TWITCH_API_URL */
  apiUrl: string
  clientId: string
  appToken: AppTokenProvider
  timeoutMs: number
  callbackUrl: string
  secret: string
}

export type CreateOutcome = 'created' | 'exists' | 'refused'

/**
 * Create, Get and Delete EventSub Subscriptions with the app access token, as webhook subscriptions
 * need (docs/providers.md §1.5). These are writes, so they do not go through the kit's GET client;
 * a 401 fetches a new app token once.
 */
export class EventSubClient {
  private readonly base: string

  constructor (private readonly options: EventSubClientOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '')
  }

  /** Every subscription of the app (all pages). */
  async list (): Promise<HelixEventSubSubscription[]> {
    const all: HelixEventSubSubscription[] = []
    const cursors = new Set<string>()
    let after: string | undefined
    for (;;) {
      const res = await this.call('GET', `/eventsub/subscriptions${after === undefined ? '' : `?after=${encodeURIComponent(after)}`}`)
      if (res.status !== 200) throw new ProviderRequestError(res.status, `GET /helix/eventsub/subscriptions answered ${res.status}`)
      const body = await res.json() as { data?: HelixEventSubSubscription[], pagination?: { cursor?: string } }
      all.push(...(body.data ?? []))
      const cursor = body.pagination?.cursor
      if (cursor === undefined || cursor === '' || cursors.has(cursor)) return all
      cursors.add(cursor)
      after = cursor
    }
  }

  /** 409 means it exists already (another replica, an earlier run); 400/403 that Twitch will not have it. */
  async create (type: string, version: string, condition: Record<string, string>): Promise<CreateOutcome> {
    const res = await this.call('POST', '/eventsub/subscriptions', {
      type, version, condition, transport: { method: 'webhook', callback: this.options.callbackUrl, secret: this.options.secret }
    })
    if (res.status === 202) return 'created'
    if (res.status === 409) return 'exists'
    if (res.status === 400 || res.status === 403) return 'refused'
    throw new ProviderRequestError(res.status, `POST /helix/eventsub/subscriptions answered ${res.status}`)
  }

  /** Deleting what is already gone is fine. */
  async delete (id: string): Promise<void> {
    const res = await this.call('DELETE', `/eventsub/subscriptions?id=${encodeURIComponent(id)}`)
    if (res.status !== 204 && res.status !== 404) throw new ProviderRequestError(res.status, `DELETE /helix/eventsub/subscriptions answered ${res.status}`)
  }

  private async call (method: string, path: string, body?: unknown, retried = false): Promise<Response> {
    const token = await this.options.appToken.token()
    let res: Response
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          'Client-Id': this.options.clientId,
          Authorization: `Bearer ${token}`,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' })
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs)
      })
    } catch (error) {
      throw new ProviderUnavailableError(`${method} /helix/eventsub/subscriptions failed`, { cause: error })
    }
    if (res.status === 401 && !retried) {
      await res.body?.cancel()
      this.options.appToken.invalidate(token)
      return await this.call(method, path, body, true)
    }
    if (res.status >= 500 || res.status === 429) {
      await res.body?.cancel()
      throw new ProviderUnavailableError(`${method} /helix/eventsub/subscriptions answered ${res.status}`)
    }
    return res
  }
}
