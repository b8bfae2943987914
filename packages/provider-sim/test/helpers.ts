import { randomBytes } from 'node:crypto'
import { SIM_CREDENTIALS, startProviderSim, type ProviderSim, type StartProviderSimOptions } from '../src/index.js'
import { signRequest, type Param } from '../src/oauth1.js'

/** The part of a tap test the helpers need. */
export interface Teardown { teardown (fn: () => unknown): void }

export const TWITCH = SIM_CREDENTIALS.twitch
export const X = SIM_CREDENTIALS.twitter
export const REDIRECT_URI = 'http://127.0.0.1:3000/auth/twitch/callback'
export const X_CALLBACK = 'http://127.0.0.1:3000/auth/twitter/callback'

/** A fixed start a minute into an hour, so a test never straddles a simulated hour by accident. */
export const START = Date.UTC(2026, 2, 10, 12, 1, 0)

export async function startSim (t: Teardown, options: StartProviderSimOptions = {}): Promise<ProviderSim> {
  const sim = await startProviderSim({ port: 0, startTime: START, ...options })
  t.teardown(() => sim.close())
  return sim
}

/** Parsed JSON, loosely typed: the tests assert its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function json (res: Response): Promise<any> {
  return JSON.parse(await res.text())
}

// ---------------------------------------------------------------------------------------------
// Twitch

export interface AuthorizeOptions {
  scopes?: string[]
  state?: string
  redirectUri?: string
  user?: string
  decision?: 'approve' | 'deny'
  clientId?: string
}

export function authorizeUrl (sim: ProviderSim, o: AuthorizeOptions = {}): string {
  const url = new URL(`${sim.twitchAuthUrl}/authorize`)
  url.searchParams.set('client_id', o.clientId ?? TWITCH.clientId)
  url.searchParams.set('redirect_uri', o.redirectUri ?? REDIRECT_URI)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('scope', (o.scopes ?? []).join(' '))
  if (o.state !== undefined) url.searchParams.set('state', o.state)
  if (o.user !== undefined) url.searchParams.set('sim_user', o.user)
  if (o.decision !== undefined) url.searchParams.set('sim_decision', o.decision)
  return url.toString()
}

/** Follows the scripted consent and returns the redirect it answers with. */
export async function authorize (sim: ProviderSim, o: AuthorizeOptions): Promise<{ status: number, location: URL }> {
  const res = await fetch(authorizeUrl(sim, o), { redirect: 'manual' })
  const location = res.headers.get('location')
  if (location === null) throw new Error(`no redirect: ${res.status} ${await res.text()}`)
  return { status: res.status, location: new URL(location) }
}

export async function twitchCode (sim: ProviderSim, login: string, scopes: string[], redirectUri = REDIRECT_URI): Promise<string> {
  const { location } = await authorize(sim, { user: login, decision: 'approve', scopes, redirectUri, state: 's' })
  return location.searchParams.get('code')!
}

/** POSTs a form to the token endpoint (or another id.twitch.tv path). */
export async function twitchPost (sim: ProviderSim, path: string, params: Record<string, string>): Promise<Response> {
  return fetch(`${sim.twitchAuthUrl}${path}`, { method: 'POST', body: new URLSearchParams(params) })
}

export interface TwitchTokenAnswer {
  access_token: string
  refresh_token: string
  expires_in: number
  scope: string[]
  token_type: string
}

export async function twitchLogin (sim: ProviderSim, login: string, scopes: string[] = []): Promise<TwitchTokenAnswer> {
  const code = await twitchCode(sim, login, scopes)
  const res = await twitchPost(sim, '/token', {
    client_id: TWITCH.clientId, client_secret: TWITCH.clientSecret, code, grant_type: 'authorization_code', redirect_uri: REDIRECT_URI
  })
  if (res.status !== 200) throw new Error(`token exchange failed: ${res.status} ${await res.text()}`)
  return json(res)
}

export async function appToken (sim: ProviderSim): Promise<string> {
  const res = await twitchPost(sim, '/token', { client_id: TWITCH.clientId, client_secret: TWITCH.clientSecret, grant_type: 'client_credentials' })
  return (await json(res)).access_token
}

/** A Helix GET; the path includes its query. */
export function helix (sim: ProviderSim, path: string, token: string, clientId: string = TWITCH.clientId): Promise<Response> {
  return fetch(`${sim.twitchApiUrl}${path}`, { headers: { Authorization: `Bearer ${token}`, 'Client-Id': clientId } })
}

// ---------------------------------------------------------------------------------------------
// X (OAuth 1.0a)

export function nonce (): string {
  return randomBytes(16).toString('hex')
}

export interface SignedOptions {
  token?: string
  tokenSecret?: string
  form?: Param[]
  oauth?: Param[]
  timestamp?: number
  nonce?: string
  consumerSecret?: string
}

/** A request to the simulator signed the way X's clients sign (header, HMAC-SHA1). */
export async function xSigned (sim: ProviderSim, method: string, path: string, o: SignedOptions = {}): Promise<Response> {
  const url = `${sim.twitterApiUrl}${path}`
  const authorization = signRequest({
    method,
    url,
    consumerKey: X.consumerKey,
    consumerSecret: o.consumerSecret ?? X.consumerSecret,
    token: o.token,
    tokenSecret: o.tokenSecret,
    form: o.form,
    oauth: o.oauth,
    nonce: o.nonce ?? nonce(),
    timestamp: o.timestamp ?? Math.floor(Date.now() / 1000)
  })
  const init: RequestInit = { method, headers: { Authorization: authorization } }
  if (o.form !== undefined) init.body = new URLSearchParams(o.form.map(([k, v]) => [k, v] as [string, string]))
  return fetch(url, init)
}

export async function xRequestToken (sim: ProviderSim, callback = X_CALLBACK): Promise<{ token: string, secret: string }> {
  const res = await xSigned(sim, 'POST', '/oauth/request_token', { oauth: [['oauth_callback', callback]] })
  const body = new URLSearchParams(await res.text())
  return { token: body.get('oauth_token')!, secret: body.get('oauth_token_secret')! }
}

export async function xAuthorize (sim: ProviderSim, token: string, login: string, decision: 'approve' | 'deny' = 'approve'): Promise<URL> {
  const res = await fetch(`${sim.twitterApiUrl}/oauth/authorize?oauth_token=${encodeURIComponent(token)}&sim_user=${login}&sim_decision=${decision}`, { redirect: 'manual' })
  return new URL(res.headers.get('location')!)
}

export interface XAccess { token: string, secret: string, userId: string, screenName: string }

export async function xLogin (sim: ProviderSim, login: string): Promise<XAccess> {
  const request = await xRequestToken(sim)
  const callback = await xAuthorize(sim, request.token, login)
  const res = await xSigned(sim, 'POST', '/oauth/access_token', {
    token: request.token, tokenSecret: request.secret, oauth: [['oauth_verifier', callback.searchParams.get('oauth_verifier')!]]
  })
  if (res.status !== 200) throw new Error(`access_token failed: ${res.status} ${await res.text()}`)
  const body = new URLSearchParams(await res.text())
  return { token: body.get('oauth_token')!, secret: body.get('oauth_token_secret')!, userId: body.get('user_id')!, screenName: body.get('screen_name')! }
}

export function xGet (sim: ProviderSim, path: string, access: XAccess): Promise<Response> {
  return xSigned(sim, 'GET', path, { token: access.token, tokenSecret: access.secret })
}
