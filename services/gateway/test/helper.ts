import authApp from '@pulse/auth/app'
import { loadAuthConfig } from '@pulse/auth/config'
import { AUTH_STREAM, METRICS_STREAM } from '@pulse/contracts'
import { EventBus, createServerOptions, migrateToLatest, requireIdentity, servicePlugin, type EventBusOptions } from '@pulse/service-kit'
import { createTestDatabase, eventually, freePort, testInfra, uniqueName, type Teardown } from '@pulse/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import Type from 'typebox'
import gatewayApp from '../src/app.js'
import { loadGatewayConfig, trustProxyOf } from '../src/config.js'

export const IDENTITY_SECRET = 'gateway-test-identity-secret-0123456789'
export const SESSION_SECRET = 'gateway-test-session-secret-0123456789abcdef'

/** A stand-in service behind the gateway that shows what it was given. */
async function startEcho (): Promise<FastifyInstance> {
  const app = Fastify(createServerOptions({ LOG_LEVEL: 'silent', REQUEST_TIMEOUT_MS: 10_000, BODY_LIMIT_BYTES: 1_000_000 }))
  await app.register(servicePlugin, { prefix: 'ECHO', audience: 'mood', identitySecrets: [IDENTITY_SECRET], openapi: { title: 'echo' } })
  app.get('/mood/whoami', async (request) => ({ identity: requireIdentity(request), clientIp: request.clientIp, headers: request.headers }))
  app.get('/mood/public', { config: { public: true } }, async (request) => ({ identity: request.identity, clientIp: request.clientIp, headers: request.headers, url: request.url }))
  app.get('/mood/slow', { config: { public: true }, schema: { querystring: Type.Object({ ms: Type.Integer({ default: 0 }) }) } }, async (request) => {
    await new Promise((resolve) => setTimeout(resolve, (request.query as { ms: number }).ms))
    return { ok: true }
  })
  app.post('/mood/echo', { config: { public: true } }, async (request) => ({ body: request.body }))
  // Answers of every shape the gateway forwards: large, without a length (chunked), cut short.
  app.get('/mood/big', { config: { public: true } }, async () => ({ items: Array.from({ length: 4000 }, (_, i) => ({ i, text: 'x'.repeat(40) })) }))
  app.get('/mood/chunked', { config: { public: true } }, (_request, reply) => {
    reply.hijack()
    reply.raw.writeHead(200, { 'content-type': 'text/plain' })
    reply.raw.write('first,')
    setTimeout(() => reply.raw.end('second'), 20)
  })
  app.get('/mood/broken', { config: { public: true } }, (_request, reply) => {
    reply.hijack()
    reply.raw.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' })
    reply.raw.write('{"partial":')
    setTimeout(() => reply.raw.destroy(), 20)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return app
}

const url = (app: FastifyInstance) => `http://127.0.0.1:${(app.server.address() as net.AddressInfo).port}`

export interface Stack {
  gatewayUrl: string
  gateway: FastifyInstance
  auth: FastifyInstance
  echo: FastifyInstance
  redis: Redis
  redisPrefix: string
  natsPrefix: string
  /** A second gateway replica with the same settings (shared Redis). */
  startReplica: () => Promise<string>
}

/** auth and a stand-in service over real HTTP behind a real gateway, sharing one Redis prefix. */
export async function startStack (t: Teardown, { gatewayEnv = {}, authEnv = {} }: { gatewayEnv?: Record<string, string>, authEnv?: Record<string, string> } = {}): Promise<Stack> {
  const infra = await testInfra()
  const redisPrefix = `${uniqueName('gw')}:`
  const natsPrefix = uniqueName('gw')
  const databaseUrl = await createTestDatabase(t)
  await migrateToLatest({ url: databaseUrl, schema: 'auth', folder: fileURLToPath(new URL('../../auth/src/db/migrations', import.meta.url)) })
  const shared = { REDIS_URL: infra.redisUrl, REDIS_PREFIX: redisPrefix, IDENTITY_SECRET, SESSION_SECRET, LOG_LEVEL: 'silent' }

  const authConfig = loadAuthConfig({ ...shared, DATABASE_URL: databaseUrl, NATS_URL: infra.natsUrl, NATS_PREFIX: natsPrefix, ...authEnv, PUBLIC_URL: gatewayEnv.PUBLIC_URL ?? 'http://127.0.0.1:3000' })
  const auth = Fastify(createServerOptions(authConfig, { trustProxy: (_address: string, hop: number) => hop === 0 }))
  await auth.register(authApp, { config: authConfig })
  await auth.listen({ port: 0, host: '127.0.0.1' })
  const echo = await startEcho()

  const config = loadGatewayConfig({
    ...shared,
    AUTH_URL: url(auth),
    MOOD_URL: url(echo),
    CONTACT_URL: `http://127.0.0.1:${await freePort()}`,
    NOTIFY_URL: `http://127.0.0.1:${await freePort()}`,
    TWITCH_INGEST_URL: `http://127.0.0.1:${await freePort()}`,
    TWITTER_INGEST_URL: `http://127.0.0.1:${await freePort()}`,
    NATS_URL: infra.natsUrl,
    NATS_PREFIX: natsPrefix,
    ...gatewayEnv
  })
  const replicas: FastifyInstance[] = []
  const startGateway = async () => {
    const gateway = Fastify(createServerOptions(config, { trustProxy: trustProxyOf(config) }))
    await gateway.register(gatewayApp, { config })
    await gateway.listen({ port: 0, host: '127.0.0.1' })
    replicas.push(gateway)
    return gateway
  }
  const gateway = await startGateway()
  const redis = new Redis(infra.redisUrl, { keyPrefix: redisPrefix })
  t.teardown(async () => {
    for (const replica of replicas) await replica.close()
    await auth.close()
    await echo.close()
    const bus = await EventBus.connect({ url: infra.natsUrl, name: 'gateway-test-cleanup', prefix: natsPrefix })
    await bus.jsm.streams.delete(bus.streamName(METRICS_STREAM)).catch(() => {})
    await bus.jsm.streams.delete(bus.streamName(AUTH_STREAM)).catch(() => {})
    await bus.close()
    const keys = await redis.keys(`${redisPrefix}*`)
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(redisPrefix.length)))
    redis.disconnect()
  })
  return { gatewayUrl: url(gateway), gateway, auth, echo, redis, redisPrefix, natsPrefix, startReplica: async () => url(await startGateway()) }
}

export interface BrowserResponse {
  status: number
  headers: Headers
  text: string
  json: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A browser's cookie jar for one origin, enough for the session cookie. */
export class Browser {
  private readonly cookies = new Map<string, string>()
  constructor (private readonly base: string, private readonly headers: Record<string, string> = {}) {}

  async fetch (path: string, init: { method?: string, body?: unknown, headers?: Record<string, string> } = {}): Promise<BrowserResponse> {
    const headers: Record<string, string> = { ...this.headers, ...init.headers }
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    if (init.body !== undefined) headers['content-type'] ??= 'application/json'
    const res = await fetch(`${this.base}${path}`, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), redirect: 'manual' })
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';')
      const [name, value] = pair!.split('=') as [string, string]
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    const text = await res.text()
    let json: unknown
    try { json = JSON.parse(text) } catch { json = undefined }
    return { status: res.status, headers: res.headers, text, json: json as BrowserResponse['json'] }
  }

  cookie (name: string): string | undefined {
    return this.cookies.get(name)
  }

  setCookie (name: string, value: string) {
    this.cookies.set(name, value)
  }
}

/**
 * Reads a Server-Sent Events response as it arrives: the text so far, whether the server has ended
 * it, and a wait until the text matches.
 */
export async function openEventStream (url: string, headers: Record<string, string>) {
  const controller = new AbortController()
  const res = await fetch(url, { headers, signal: controller.signal })
  let text = ''
  let ended = false
  const reader = res.body!.getReader()
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        text += new TextDecoder().decode(value)
      }
    } catch { /* aborted */ }
    ended = true
  })()
  return {
    res,
    text: () => text,
    ended: () => ended,
    async waitFor (pattern: RegExp, ms = 10_000) { return await eventually(() => pattern.test(text), ms, 25) },
    async close () { controller.abort(); await done }
  }
}

/** A browser logged in as a newly registered user (password 'a fine password'), and the user's id. */
export async function registeredUser (stack: Stack, username: string): Promise<{ browser: Browser, userId: string }> {
  const browser = new Browser(stack.gatewayUrl)
  const answer = await browser.fetch('/auth/register', { method: 'POST', body: { username, password: 'a fine password' } })
  if (answer.status !== 201) throw new Error(`register ${username}: ${answer.status}`)
  return { browser, userId: answer.json.user.id as string }
}

/** The test's own bus on the stack's NATS prefix, to publish what services would (closed when the test ends). */
export async function stackBus (t: Teardown, stack: Stack, name: string, streams: NonNullable<EventBusOptions['streams']>): Promise<EventBus> {
  const bus = await EventBus.connect({ url: (await testInfra()).natsUrl, name, prefix: stack.natsPrefix, streams })
  t.teardown(() => bus.close())
  return bus
}
