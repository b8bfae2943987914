// The provider simulator as the Twitch drain benchmark uses it (over HTTP: it runs as its own
// pinned process), and a stand-in for auth's side of the provider-token request-reply that hands
// out real simulator tokens. The responder does the job of `TestTokenResponder`
// (`@pulse/ingest-kit/testing`) with the same request-reply helper, but answers requests
// concurrently, as auth does (auth serialises refreshes only).
import { randomUUID } from 'node:crypto'
import { ProviderTokenRpcV1, SIMULATOR_CREDENTIALS, TWITCH_INGEST_SCOPES, type TokenReply, type TokenRequest } from '@pulse/contracts'
import { EventBus, answerRequests, type Responder } from '@pulse/service-kit'

const SIM_TWITCH_CLIENT = { id: SIMULATOR_CREDENTIALS.twitch.clientId, secret: SIMULATOR_CREDENTIALS.twitch.clientSecret } as const
const REDIRECT_URI = 'http://127.0.0.1:9/callback'

export interface SimAccount { login: string, twitchId: string, profile: string }

export interface SimGrant {
  providerUserId: string
  providerLogin: string
  accessToken: string
  refreshToken: string
  expiresAt: string
  scopes: string[]
}

interface TokenAnswer { access_token: string, refresh_token: string, expires_in: number, scope: string[] }

export class SimClient {
  constructor (readonly url: string) {}

  async accounts (): Promise<SimAccount[]> {
    return await this.json<SimAccount[]>('/_sim/users')
  }

  /** What the dashboard should show for the account now (`/_sim/expected/twitch/:login`). */
  async expected (login: string): Promise<{ followers: number, subscribers: { total: number }, followedChannels: number, videos: { count: number } }> {
    return await this.json(`/_sim/expected/twitch/${encodeURIComponent(login)}`)
  }

  /** Calls per endpoint since the simulator started or the last reset (`GET /helix/users`, …). */
  /** Every provider answer comes `ms` later (PUT /_sim/latency): a provider far away. */
  async setLatency (ms: number): Promise<void> {
    const res = await fetch(`${this.url}/_sim/latency`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms }) })
    if (!res.ok) throw new Error(`PUT /_sim/latency: ${res.status}`)
  }

  async callCounts (): Promise<Record<string, number>> {
    return await this.json<Record<string, number>>('/_sim/calls')
  }

  /** The most provider calls in flight at once since the counts were reset, and the waves of calls. */
  async inFlight (): Promise<{ max: number, waves: number }> {
    return await this.json<{ max: number, waves: number }>('/_sim/in-flight')
  }

  async resetCounts (): Promise<void> {
    const res = await fetch(`${this.url}/_sim/calls`, { method: 'DELETE' })
    if (res.status !== 204) throw new Error(`DELETE /_sim/calls answered ${res.status}`)
  }

  /** The authorization code flow with the simulator's scripted consent, then the code exchange. */
  async grant (account: SimAccount, scopes: readonly string[] = TWITCH_INGEST_SCOPES): Promise<SimGrant> {
    const authorize = new URL(`${this.url}/oauth2/authorize`)
    authorize.search = new URLSearchParams({
      client_id: SIM_TWITCH_CLIENT.id, redirect_uri: REDIRECT_URI, response_type: 'code', scope: scopes.join(' '),
      state: randomUUID(), sim_user: account.login, sim_decision: 'approve'
    }).toString()
    const consent = await fetch(authorize, { redirect: 'manual' })
    const location = consent.headers.get('location')
    const code = location === null ? null : new URL(location).searchParams.get('code')
    if (consent.status !== 302 || code === null) throw new Error(`authorize for ${account.login} answered ${consent.status} ${location ?? ''}`)
    return this.grantOf(account, await this.token({ code, grant_type: 'authorization_code', redirect_uri: REDIRECT_URI }))
  }

  /** A refresh (the refresh token rotates; the old one stops working). */
  async refresh (account: SimAccount, refreshToken: string): Promise<SimGrant> {
    return this.grantOf(account, await this.token({ refresh_token: refreshToken, grant_type: 'refresh_token' }))
  }

  /** What is left of the account's Helix budget (one call: it spends a point itself). */
  async helixBudget (accessToken: string): Promise<{ remaining: number, resetAt: number }> {
    const res = await fetch(`${this.url}/helix/users`, { headers: { 'Client-Id': SIM_TWITCH_CLIENT.id, Authorization: `Bearer ${accessToken}` } })
    await res.arrayBuffer()
    return { remaining: Number(res.headers.get('ratelimit-remaining')), resetAt: Number(res.headers.get('ratelimit-reset')) * 1000 }
  }

  private grantOf (account: SimAccount, tokens: TokenAnswer): SimGrant {
    return {
      providerUserId: account.twitchId,
      providerLogin: account.login,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: new Date(Date.now() + tokens.expires_in * 1000).toISOString(),
      scopes: tokens.scope
    }
  }

  private async token (params: Record<string, string>): Promise<TokenAnswer> {
    const res = await fetch(`${this.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: SIM_TWITCH_CLIENT.id, client_secret: SIM_TWITCH_CLIENT.secret, ...params }).toString()
    })
    if (!res.ok) throw new Error(`token endpoint answered ${res.status}`)
    return await res.json() as TokenAnswer
  }

  private async json<T> (path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`)
    if (!res.ok) throw new Error(`${path} answered ${res.status}`)
    return await res.json() as T
  }
}

interface AccountState { account: SimAccount, grant: SimGrant, renewing: Promise<void> }

/**
 * Answers `rpc.auth.provider-token.v1.twitch` for the Pulse users it was told about with the current
 * token of the simulator account each one is linked to (many users may share one account). A
 * request naming the current token as rejected refreshes it at the simulator, once per account.
 */
export class BenchTokenResponder {
  requests = 0
  renewals = 0
  unknownUsers = 0
  private readonly users = new Map<string, AccountState>()
  private readonly accounts = new Map<string, AccountState>()

  private responder: Responder | undefined

  private constructor (private readonly bus: EventBus, private readonly sim: SimClient) {}

  static async start ({ natsUrl, prefix, sim }: { natsUrl: string, prefix: string, sim: SimClient }): Promise<BenchTokenResponder> {
    const bus = await EventBus.connect({ url: natsUrl, name: 'bench-token-responder', prefix })
    const responder = new BenchTokenResponder(bus, sim)
    responder.responder = await answerRequests(bus, ProviderTokenRpcV1, {
      handle: async (request) => await responder.answer(request),
      refuse: (why): TokenReply => ({ ok: false, error: 'unavailable', message: 'problems' in why ? why.problems.join('; ') : String(why.error) })
    })
    return responder
  }

  /** The account's grant, handed out to every user linked to it. */
  addAccount (account: SimAccount, grant: SimGrant): void {
    this.accounts.set(account.login, { account, grant, renewing: Promise.resolve() })
  }

  link (userId: string, login: string): void {
    const state = this.accounts.get(login)
    if (state === undefined) throw new Error(`no grant for ${login}`)
    this.users.set(userId, state)
  }

  grantOf (login: string): SimGrant | undefined {
    return this.accounts.get(login)?.grant
  }

  private async answer (request: TokenRequest): Promise<TokenReply> {
    this.requests++
    const state = request.provider === 'twitch' ? this.users.get(request.userId) : undefined
    if (state === undefined) {
      this.unknownUsers++
      return { ok: false, error: 'not_connected', message: 'no connection' }
    }
    if (request.rejectedAccessToken !== undefined) {
      // One refresh per rejected token, however many users of the account ask at once.
      const renewal = state.renewing.then(async () => {
        if (state.grant.accessToken !== request.rejectedAccessToken) return
        this.renewals++
        state.grant = await this.sim.refresh(state.account, state.grant.refreshToken)
      })
      state.renewing = renewal.catch(() => {})
      await renewal
    }
    const { refreshToken: _refreshToken, ...grant } = state.grant
    return { ok: true, provider: 'twitch', ...grant }
  }

  async close (): Promise<void> {
    await this.responder?.close()
    await this.bus.close()
  }
}
