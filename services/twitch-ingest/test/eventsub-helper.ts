import { createHmac, randomUUID } from 'node:crypto'
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { TWITCH_EVENTSUB_STREAM, type EventContract, type EventPayload, type StreamContract } from '@pulse/contracts'
import { SIM_CREDENTIALS } from '@pulse/provider-sim'
import type { Teardown } from '@pulse/testing'
import type { FastifyInstance } from 'fastify'
import { buildApp, type Built, type World } from './helper.js'

export const EVENTSUB_SECRET = 'a-test-eventsub-secret-0123456789'

/**
 * Stands where the gateway stands for Twitch: a public address that forwards every request to the
 * service's replicas in turn, known before they listen (a replica names its callback at start-up).
 * Requests that arrive before the first replica listens wait for it.
 */
export interface Forwarder { url: string, add (target: string): void }

/** Passes one request to `base` as it came and its answer back as it comes (502 when `base` cannot be reached). */
export function forwardTo (base: string, req: IncomingMessage, res: ServerResponse): void {
  const upstream = httpRequest(`${base}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers)
    answer.pipe(res)
  })
  upstream.on('error', () => { res.writeHead(502).end() })
  req.pipe(upstream)
}

export async function startForwarder (t: Teardown): Promise<Forwarder> {
  const targets: string[] = []
  let first: (target: string) => void = () => {}
  const ready = new Promise<string>((resolve) => { first = resolve })
  let turn = 0
  const server = createServer((req, res) => {
    void ready.then(() => {
      const base = targets[turn++ % targets.length]!
      forwardTo(base, req, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    add: (target) => {
      targets.push(target)
      first(target)
    }
  }
}

/** A replica with EventSub on, listening behind `forwarder` (its callback), a new one by default. */
export async function buildEventSubApp (t: Teardown, world: World, env: Record<string, string> = {}, shared?: Forwarder): Promise<Built & { callbackUrl: string }> {
  const forwarder = shared ?? await startForwarder(t)
  const callbackUrl = `${forwarder.url}/webhooks/twitch`
  const built = await buildApp(t, world, {
    TWITCH_EVENTSUB_ENABLED: 'true',
    TWITCH_EVENTSUB_SECRET: EVENTSUB_SECRET,
    TWITCH_EVENTSUB_CALLBACK_URL: callbackUrl,
    ...env
  })
  await built.app.listen({ port: 0, host: '127.0.0.1' })
  forwarder.add(`http://127.0.0.1:${(built.app.server.address() as AddressInfo).port}`)
  t.teardown(async () => { await world.bus.jsm.streams.delete(world.bus.streamName(TWITCH_EVENTSUB_STREAM)).catch(() => {}) })
  return { ...built, callbackUrl }
}

export interface Delivery {
  headers: Record<string, string>
  payload: string
}

/** A message signed as Twitch signs it (docs/providers.md §1.5). */
export function signedDelivery (o: {
  type?: 'notification' | 'revocation' | 'webhook_callback_verification'
  subscriptionType: string
  version?: string
  body: unknown
  id?: string
  timestamp?: string
  secret?: string
}): Delivery {
  const id = o.id ?? randomUUID()
  const timestamp = o.timestamp ?? new Date().toISOString()
  const payload = JSON.stringify(o.body)
  const signature = `sha256=${createHmac('sha256', o.secret ?? EVENTSUB_SECRET).update(id + timestamp + payload).digest('hex')}`
  return {
    payload,
    headers: {
      'content-type': 'application/json',
      'twitch-eventsub-message-id': id,
      'twitch-eventsub-message-retry': '0',
      'twitch-eventsub-message-type': o.type ?? 'notification',
      'twitch-eventsub-message-signature': signature,
      'twitch-eventsub-message-timestamp': timestamp,
      'twitch-eventsub-subscription-type': o.subscriptionType,
      'twitch-eventsub-subscription-version': o.version ?? '1'
    }
  }
}

/** A channel.follow notification for the broadcaster, as Twitch's body has it. */
export function followBody (broadcasterId: string, followerId = '900000123') {
  return {
    subscription: {
      id: randomUUID(), status: 'enabled', type: 'channel.follow', version: '2', cost: 0,
      condition: { broadcaster_user_id: broadcasterId, moderator_user_id: broadcasterId },
      transport: { method: 'webhook', callback: 'https://example.invalid/webhooks/twitch' }, created_at: new Date().toISOString()
    },
    event: {
      user_id: followerId, user_login: 'a_follower', user_name: 'A_Follower',
      broadcaster_user_id: broadcasterId, broadcaster_user_login: 'sim_big', broadcaster_user_name: 'Sim_Big', followed_at: new Date().toISOString()
    }
  }
}

export async function deliver (app: FastifyInstance, delivery: Delivery): Promise<{ statusCode: number, body: string, headers: Record<string, unknown> }> {
  const res = await app.inject({ method: 'POST', url: '/webhooks/twitch', headers: delivery.headers, payload: delivery.payload })
  return { statusCode: res.statusCode, body: res.body, headers: res.headers }
}

/** Every event of `contract` the service published so far, read from the stream message by message. */
export async function publishedEvents<E extends EventContract> (world: World, stream: StreamContract, contract: E): Promise<Array<EventPayload<E>>> {
  const name = world.bus.streamName(stream)
  const subject = world.bus.subject(contract.subject)
  const info = await world.bus.jsm.streams.info(name).catch(() => undefined)
  const found: Array<EventPayload<E>> = []
  if (info === undefined || info.state.messages === 0) return found
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const msg = await world.bus.jsm.streams.getMessage(name, { seq }).catch(() => undefined)
    if (msg !== undefined && msg !== null && msg.subject === subject) found.push(msg.json<EventPayload<E>>())
  }
  return found
}

/** An app token of the simulator, to act at Twitch behind Pulse's back. */
export async function simAppToken (world: World): Promise<string> {
  const res = await fetch(`${world.sim.twitchAuthUrl}/token`, {
    method: 'POST',
    body: new URLSearchParams({ client_id: SIM_CREDENTIALS.twitch.clientId, client_secret: SIM_CREDENTIALS.twitch.clientSecret, grant_type: 'client_credentials' })
  })
  return ((await res.json()) as { access_token: string }).access_token
}

export interface SimSubscription { id: string, status: string, type: string, condition: Record<string, string> }

/** The subscriptions the simulator holds for the app. */
export async function simSubscriptions (world: World, token: string): Promise<SimSubscription[]> {
  const res = await fetch(`${world.sim.twitchApiUrl}/eventsub/subscriptions`, { headers: { Authorization: `Bearer ${token}`, 'Client-Id': SIM_CREDENTIALS.twitch.clientId } })
  return ((await res.json()) as { data: SimSubscription[] }).data
}
