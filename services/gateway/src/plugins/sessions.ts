import { Signer } from '@fastify/cookie'
import { sessionCookieName, sessionKey, sessionRevokedChannel, type SessionRecord } from '@pulse/service-kit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import type { GatewayConfig } from '../config.js'
import { GatewaySessionUnavailableError } from '../errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The logged-in user of this request's session, or null. */
    user: SessionRecord | null
    /** The session id from a validly signed cookie, whether or not a session exists for it. */
    sessionId: string | null
  }
  interface FastifyInstance {
    sessions: SessionResolver
  }
}

const MAX_CACHED = 50_000

/**
 * Resolves the session cookie once per request: verifies its signature, reads the session written by
 * auth from Redis (extending its idle timeout), enforces the absolute lifetime, and keeps the result
 * for SESSION_CACHE_MS. Auth announces every removed or changed session, and the copy here is
 * dropped at once; the cache only spares Redis a round trip on bursts of requests.
 */
export class SessionResolver {
  private readonly cache = new Map<string, { record: SessionRecord | null, until: number }>()
  /** Cookie values whose signature was already checked (an HMAC per request otherwise). */
  private readonly unsigned = new Map<string, string | null>()
  private readonly signer: Signer
  /** Told of every session dropped from the cache (null: all of them), e.g. to end its live streams. */
  private readonly forgetListeners = new Set<(sessionId: string | null) => void>()
  readonly cookieName: string

  constructor (private readonly redis: Redis, private readonly config: GatewayConfig) {
    this.signer = new Signer([config.SESSION_SECRET, config.SESSION_SECRET_PREVIOUS].filter((s): s is string => s !== undefined), 'sha256')
    this.cookieName = sessionCookieName(config.PUBLIC_URL)
  }

  /** The session id in a Cookie header, if its signature is ours. */
  sessionIdFrom (cookieHeader: string | undefined): string | null {
    if (cookieHeader === undefined) return null
    const marker = `${this.cookieName}=`
    let start = cookieHeader.indexOf(marker)
    while (start > 0 && cookieHeader[start - 1] !== ' ' && cookieHeader[start - 1] !== ';') start = cookieHeader.indexOf(marker, start + 1)
    if (start < 0) return null
    const end = cookieHeader.indexOf(';', start)
    const raw = cookieHeader.slice(start + marker.length, end < 0 ? undefined : end).trim()
    const known = this.unsigned.get(raw)
    if (known !== undefined) return known
    let value: string
    try { value = decodeURIComponent(raw) } catch { return null }
    const unsigned = this.signer.unsign(value)
    const sessionId = unsigned.valid && unsigned.value !== null ? unsigned.value : null
    if (this.unsigned.size >= MAX_CACHED) this.unsigned.clear()
    this.unsigned.set(raw, sessionId)
    return sessionId
  }

  /** The session as resolved less than SESSION_CACHE_MS ago, or undefined when Redis must be asked. */
  cached (sessionId: string, now = Date.now()): SessionRecord | null | undefined {
    const cached = this.cache.get(sessionId)
    return cached !== undefined && cached.until > now ? cached.record : undefined
  }

  async resolve (sessionId: string): Promise<SessionRecord | null> {
    const now = Date.now()
    const cached = this.cached(sessionId, now)
    if (cached !== undefined) return cached
    let raw: string | null
    try {
      raw = await this.redis.getex(sessionKey(sessionId), 'EX', this.config.SESSION_IDLE_TIMEOUT_S)
    } catch (error) {
      throw new GatewaySessionUnavailableError({ cause: error })
    }
    let record = raw === null ? null : JSON.parse(raw) as SessionRecord
    if (record !== null && (typeof record.userId !== 'string' || now - record.createdAt > this.config.SESSION_ABSOLUTE_TIMEOUT_S * 1000)) {
      await this.redis.del(sessionKey(sessionId)).catch(() => {})
      record = null
    }
    if (this.config.SESSION_CACHE_MS > 0) {
      if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string)
      this.cache.set(sessionId, { record, until: now + this.config.SESSION_CACHE_MS })
    }
    return record
  }

  forget (sessionId: string): void {
    this.cache.delete(sessionId)
    for (const listener of this.forgetListeners) listener(sessionId)
  }

  forgetAll (): void {
    this.cache.clear()
    for (const listener of this.forgetListeners) listener(null)
  }

  /** Calls `listener` whenever a session may have ended or changed; returns the unsubscribe. */
  onForget (listener: (sessionId: string | null) => void): () => void {
    this.forgetListeners.add(listener)
    return () => this.forgetListeners.delete(listener)
  }
}

async function sessionsPlugin (app: FastifyInstance, { config }: { config: GatewayConfig }) {
  const resolver = new SessionResolver(app.redis, config)
  app.decorate('sessions', resolver)
  app.decorateRequest('user', null)
  app.decorateRequest('sessionId', null)

  // Revocations arrive on a separate connection (a subscribed client can do nothing else).
  const subscriber = app.redis.duplicate({ keyPrefix: '', enableOfflineQueue: true, lazyConnect: true })
  subscriber.on('error', (err) => app.log.warn({ err: { message: err.message } }, 'redis subscriber error'))
  // After a reconnect, revocations may have been missed: start from an empty cache.
  subscriber.on('ready', () => resolver.forgetAll())
  subscriber.on('message', (_channel, sessionId) => resolver.forget(sessionId))
  await subscriber.connect()
  await subscriber.subscribe(sessionRevokedChannel(config.REDIS_PREFIX))
  app.addHook('onClose', async () => { subscriber.disconnect() })

  // Callback style, and synchronous when the session is cached (most requests): no promise, no
  // microtask on the hot path.
  app.addHook('onRequest', (request: FastifyRequest, _reply, done) => {
    if (request.routeOptions.config.public === true) { done(); return } // /health, /ready, /docs: no session needed
    const sessionId = resolver.sessionIdFrom(request.headers.cookie)
    if (sessionId === null) { done(); return }
    request.sessionId = sessionId
    const cached = resolver.cached(sessionId)
    if (cached !== undefined) {
      request.user = cached
      done()
      return
    }
    resolver.resolve(sessionId).then((user) => { request.user = user; done() }, done)
  })
}

export default fp(sessionsPlugin, { name: 'gateway-sessions', fastify: '5.x', dependencies: ['pulse-redis'] })
