import { TOKEN_REQUEST_SUBJECTS, TokenRequestSchema, type TokenReply, type TokenRequest } from '@pulse/contracts'
import { EventBus } from '@pulse/service-kit'
import type { Subscription } from 'nats'
import { Compile } from 'typebox/compile'

/** A stand-in for auth's side of the provider-token request-reply, on real NATS. */
type ProviderName = 'twitch' | 'twitter'
export type ResponderGrant = Omit<Extract<TokenReply, { ok: true }>, 'ok' | 'provider'>
export type ResponderError = Extract<TokenReply, { ok: false }>['error']

export interface ResponderAccount {
  /** What the next request gets: a grant, or one of auth's errors. */
  current: ResponderGrant | { error: ResponderError }
  /**
   * Called when a request names the current token as rejected: returns the grant to hand out from
   * now on (a Twitch refresh at the simulator), or an error (X: the connection is invalid).
   */
  renew?: (rejected: ResponderGrant) => Promise<ResponderGrant | { error: ResponderError }>
}

const checkRequest = Compile(TokenRequestSchema)

export class TestTokenResponder {
  /** Every request received, in order. */
  readonly requests: TokenRequest[] = []
  private readonly accounts = new Map<string, ResponderAccount>()
  private readonly planned = new Map<string, ResponderError[]>()
  /** Requests are answered one at a time, as auth serialises refreshes per user. */
  private queue: Promise<void> = Promise.resolve()

  private constructor (private readonly bus: EventBus, private readonly subscriptions: Subscription[]) {}

  static async start ({ natsUrl, prefix }: { natsUrl: string, prefix: string }): Promise<TestTokenResponder> {
    const bus = await EventBus.connect({ url: natsUrl, name: 'test-token-responder', prefix })
    const providers = Object.keys(TOKEN_REQUEST_SUBJECTS) as ProviderName[]
    const subscriptions = providers.map((provider) => bus.nc.subscribe(bus.subject(TOKEN_REQUEST_SUBJECTS[provider])))
    const responder = new TestTokenResponder(bus, subscriptions)
    providers.forEach((provider, i) => {
      void (async () => {
        for await (const msg of subscriptions[i]!) {
          responder.queue = responder.queue.then(async () => {
            const reply = await responder.answer(msg.data, provider)
            msg.respond(Buffer.from(JSON.stringify(reply)))
          }).catch(() => {})
        }
      })()
    })
    await bus.nc.flush()
    return responder
  }

  set (userId: string, provider: ProviderName, account: ResponderAccount): void {
    this.accounts.set(`${provider}:${userId}`, account)
  }

  /** The next `count` requests for this user are answered with `error` (auth having trouble). */
  failNext (userId: string, provider: ProviderName, count: number, error: ResponderError = 'unavailable'): void {
    this.planned.set(`${provider}:${userId}`, [...(this.planned.get(`${provider}:${userId}`) ?? []), ...Array<ResponderError>(count).fill(error)])
  }

  /** The token currently handed out for a user, if any. */
  currentToken (userId: string, provider: ProviderName): string | undefined {
    const current = this.accounts.get(`${provider}:${userId}`)?.current
    return current === undefined || 'error' in current ? undefined : current.accessToken
  }

  private async answer (data: Uint8Array, subjectProvider: ProviderName): Promise<TokenReply> {
    let request: unknown
    try {
      request = JSON.parse(Buffer.from(data).toString('utf8'))
    } catch {
      return { ok: false, error: 'unavailable', message: 'bad request' }
    }
    if (!checkRequest.Check(request)) return { ok: false, error: 'unavailable', message: 'bad request' }
    if (request.provider !== subjectProvider) return { ok: false, error: 'unavailable', message: `${request.provider} token asked on the ${subjectProvider} subject` }
    this.requests.push(request)
    const planned = this.planned.get(`${request.provider}:${request.userId}`)?.shift()
    if (planned !== undefined) return { ok: false, error: planned, message: `test responder: ${planned}` }
    const account = this.accounts.get(`${request.provider}:${request.userId}`)
    if (account === undefined) return { ok: false, error: 'not_connected', message: 'no connection' }
    const current = account.current
    if (request.rejectedAccessToken !== undefined && !('error' in current) && request.rejectedAccessToken === current.accessToken) {
      account.current = account.renew === undefined ? { error: 'invalid_grant' } : await account.renew(current)
    }
    const answer = account.current
    if ('error' in answer) return { ok: false, error: answer.error, message: `test responder: ${answer.error}` }
    return { ok: true, provider: request.provider, ...answer }
  }

  async close (): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe()
    await this.bus.close()
  }
}
