import { ProviderTokenRpcV1, type TokenProvider, type TokenReply, type TokenRequest } from '@pulse/contracts'
import { EventBus, answerRequests, type Responder } from '@pulse/service-kit'

type ProviderName = TokenProvider
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

/** A stand-in for auth's side of the provider-token request-reply, on real NATS. */
export class TestTokenResponder {
  /** Every request received, in order. */
  readonly requests: TokenRequest[] = []
  private readonly accounts = new Map<string, ResponderAccount>()
  private readonly planned = new Map<string, ResponderError[]>()
  /** Requests are answered one at a time, as auth serialises refreshes per user. */
  private queue: Promise<void> = Promise.resolve()
  private responder: Responder | undefined

  private constructor (private readonly bus: EventBus) {}

  static async start ({ natsUrl, prefix }: { natsUrl: string, prefix: string }): Promise<TestTokenResponder> {
    const bus = await EventBus.connect({ url: natsUrl, name: 'test-token-responder', prefix })
    const test = new TestTokenResponder(bus)
    test.responder = await answerRequests(bus, ProviderTokenRpcV1, {
      handle: async (request, subjectProvider) => await new Promise<TokenReply>((resolve, reject) => {
        test.queue = test.queue.then(async () => { resolve(await test.answer(request, subjectProvider)) }).catch(reject)
      }),
      refuse: (why): TokenReply => ({ ok: false, error: 'unavailable', message: 'problems' in why ? `bad request: ${why.problems.join('; ')}` : 'test responder failed' })
    })
    return test
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

  private async answer (request: TokenRequest, subjectProvider: ProviderName): Promise<TokenReply> {
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
    await this.responder?.close()
    await this.bus.close()
  }
}
