import type { AddressInfo } from 'node:net'
import { buildSimApp, simControlOf } from './app.js'
import type { SimControl } from './control.js'
import type { XNaming } from './state.js'
import type { DeliverySettings } from './eventsub.js'

export { buildSimApp, simControlOf, type BuildSimAppOptions } from './app.js'
export type { ExpectedTwitch, ExpectedTwitter, SimControl } from './control.js'
export { SIM_CREDENTIALS } from './credentials.js'
export type { FaultStatus } from './faults.js'
export { eventsubSignature, type DeliveryMode, type DeliveryRecord, type DeliverySettings, type EventSubStatus } from './eventsub.js'
export type { EventOutcome } from './eventsub-control.js'
export type { XNaming } from './state.js'

export interface StartProviderSimOptions {
  /** 0 = a free port (the default). */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** Default 42. */
  seed?: number
  /** Serve `/_sim`; default true for the library. */
  control?: boolean
  /** Ms epoch of the simulator's clock at start; default: real now. */
  startTime?: number
  logger?: boolean
  /** X's wire names: `tweet` (default) or the `post` names of OpenAPI 2.167 (docs/providers.md §2.5). */
  xNaming?: XNaming
  /** EventSub retry delays and callback timeout (default 1 s, 5 s, 15 s; 10 s). */
  eventsubDelivery?: Partial<DeliverySettings>
}

export interface ProviderSim {
  /** http://127.0.0.1:PORT */
  url: string
  /** url + '/oauth2' (TWITCH_AUTH_URL) */
  twitchAuthUrl: string
  /** url + '/helix' (TWITCH_API_URL) */
  twitchApiUrl: string
  /** url (TWITTER_API_URL: X's /oauth/*, /2/*, /1.1/* live under it) */
  twitterApiUrl: string
  /** The same operations as /_sim, in process. */
  control: SimControl
  close(): Promise<void>
}

function hostForUrl (host: string, address: AddressInfo): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : address.address
  return reachable.includes(':') ? `[${reachable}]` : reachable
}

/** Starts a simulator on a real socket, for tests and scripts. */
export async function startProviderSim (options: StartProviderSimOptions = {}): Promise<ProviderSim> {
  const host = options.host ?? '127.0.0.1'
  const app = buildSimApp({
    seed: options.seed,
    startTime: options.startTime,
    control: options.control ?? true,
    logger: options.logger ?? false,
    xNaming: options.xNaming,
    eventsubDelivery: options.eventsubDelivery
  })
  await app.listen({ port: options.port ?? 0, host })
  const address = app.server.address() as AddressInfo
  const url = `http://${hostForUrl(host, address)}:${address.port}`
  return {
    url,
    twitchAuthUrl: `${url}/oauth2`,
    twitchApiUrl: `${url}/helix`,
    twitterApiUrl: url,
    control: simControlOf(app),
    close: () => app.close()
  }
}
