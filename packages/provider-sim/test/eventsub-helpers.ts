import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ProviderSim } from '../src/index.js'
import { TWITCH, appToken, json, twitchLogin, type Teardown } from './helpers.js'

/** What a callback received. */
export interface Received {
  headers: IncomingHttpHeaders
  body: string
  type: string
}

export type Answer = (message: Received) => { status: number, body?: string, contentType?: string }

/** Answers the challenge as Twitch asks (200, the challenge as text/plain) and 204 to the rest. */
export const goodReceiver: Answer = (message) => {
  if (message.type === 'webhook_callback_verification') return { status: 200, body: JSON.parse(message.body).challenge, contentType: 'text/plain' }
  return { status: 204 }
}

/** A real HTTP callback that records every message and answers with `answer` (changeable). */
export async function startReceiver (t: Teardown, answer: Answer = goodReceiver): Promise<{ url: string, received: Received[], answer: Answer, setAnswer (next: Answer): void }> {
  const received: Received[] = []
  let current = answer
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const message = { headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), type: String(request.headers['twitch-eventsub-message-type']) }
      received.push(message)
      const reply = current(message)
      response.writeHead(reply.status, reply.contentType === undefined ? {} : { 'content-type': reply.contentType })
      response.end(reply.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as AddressInfo).port
  return { url: `http://127.0.0.1:${port}/webhooks/twitch`, received, answer: current, setAnswer: (next) => { current = next } }
}

/** Polls until `fn` holds; fails with `what` after `ms`. */
export async function until (what: string, fn: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await fn()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  if (!(await fn())) throw new Error(`timed out waiting for ${what}`)
}

export const SECRET = 'a-webhook-secret-of-some-length'

export function helixSend (sim: ProviderSim, method: string, path: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`${sim.twitchApiUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Client-Id': TWITCH.clientId, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
}

export function subscriptionBody (type: string, version: string, condition: Record<string, string>, callback: string, secret = SECRET) {
  return { type, version, condition, transport: { method: 'webhook', callback, secret } }
}

/** An app token, and sim_big having authorized the app with the scopes the channel types need. */
export async function eventsubSetup (sim: ProviderSim) {
  const app = await appToken(sim)
  await twitchLogin(sim, 'sim_big', ['moderator:read:followers', 'channel:read:subscriptions', 'bits:read'])
  const big = sim.control.expectedTwitch('sim_big')
  return { app, bigId: big.userId }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests assert its shape
export async function subscribe (sim: ProviderSim, token: string, body: unknown): Promise<{ status: number, body: any }> {
  const res = await helixSend(sim, 'POST', '/eventsub/subscriptions', token, body)
  return { status: res.status, body: await json(res) }
}
