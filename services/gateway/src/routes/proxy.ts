import httpProxy from '@fastify/http-proxy'
import { IDENTITY_HEADER, signAssertion } from '@pulse/service-kit'
import type { FastifyInstance, FastifyReply, FastifyRequest, RawServerBase, RouteGenericInterface } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import { Transform, pipeline, type Readable } from 'node:stream'
import { Pool, type Dispatcher } from 'undici'
import type { GatewayConfig } from '../config.js'
import { BadGateway, PayloadTooLarge, UpstreamTimeout, UpstreamUnavailable } from '../errors.js'

export interface Upstream {
  name: string
  prefix: string
  url: string
  /** Only auth owns the session cookie; every other service never sees cookies. */
  forwardCookies: boolean
}

export function upstreamsOf (config: GatewayConfig): Upstream[] {
  return [
    { name: 'auth', prefix: '/auth', url: config.AUTH_URL, forwardCookies: true },
    { name: 'mood', prefix: '/mood', url: config.MOOD_URL, forwardCookies: false },
    { name: 'contact', prefix: '/contact', url: config.CONTACT_URL, forwardCookies: false },
    { name: 'twitch-ingest', prefix: '/twitch', url: config.TWITCH_INGEST_URL, forwardCookies: false },
    { name: 'twitter-ingest', prefix: '/twitter', url: config.TWITTER_INGEST_URL, forwardCookies: false }
  ]
}

/**
 * Headers a client may not set for a service: identity and address claims are the gateway's alone
 * (PITFALLS: reply-from forwards X-Forwarded-* unchanged unless they are replaced).
 */
function isClientClaim (name: string): boolean {
  return name.startsWith('x-forwarded-') || name.startsWith('x-pulse-') || name.startsWith('x-user') ||
    name === 'forwarded' || name === 'x-real-ip' || name === 'x-request-id'
}

/**
 * One signed assertion per user and address, reused for a third of its lifetime: signing costs an
 * HMAC, and services remember the assertions they verified, so reuse spares both sides.
 */
function assertionCache (config: GatewayConfig) {
  const cache = new Map<string, { token: string, until: number }>()
  const reuseMs = (config.IDENTITY_TTL_S * 1000) / 3
  return (user: FastifyRequest['user'], clientIp: string): string => {
    const key = user === null ? `\0${clientIp}` : `${user.userId}\0${user.role}\0${user.timezone}\0${clientIp}`
    const now = Date.now()
    const hit = cache.get(key)
    if (hit !== undefined && hit.until > now) return hit.token
    const token = signAssertion({
      user: user === null ? null : { userId: user.userId, role: user.role, timezone: user.timezone },
      clientIp
    }, config.IDENTITY_SECRET, config.IDENTITY_TTL_S, now)
    if (cache.size >= 50_000) cache.clear()
    cache.set(key, { token, until: now + reuseMs })
    return token
  }
}

/** Upstream answers up to this size are read whole and sent with their headers in one write. */
const BUFFERED_BODY_LIMIT = 64 * 1024

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) and those undici sets itself: never forwarded either way.
 * `expect` is answered by Node's server (100-continue) and undici refuses it.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'expect'])

type Reply = FastifyReply<RouteGenericInterface, RawServerBase>
type Request = FastifyRequest<RouteGenericInterface, RawServerBase>

function errorCode (error: Error): string | undefined {
  const failure = error as Error & { code?: string, cause?: { code?: string } }
  return failure.cause?.code ?? failure.code
}

/**
 * Forwards the requests @fastify/http-proxy routes to one service. http-proxy matches the prefix and
 * checks the destination (no traversal, no escape from the prefix); the request itself goes out on
 * an undici Pool of kept-alive connections, without @fastify/reply-from's general-purpose request
 * building (URL cache, retries, header copies): measured at a third of the gateway's CPU per request
 * (bench/RESULTS.md). Answers up to BUFFERED_BODY_LIMIT with a length are sent in one write; others
 * are streamed.
 */
function upstreamForwarder (upstream: Upstream, config: GatewayConfig, assertionFor: ReturnType<typeof assertionCache>) {
  const publicUrl = new URL(config.PUBLIC_URL)
  const proto = publicUrl.protocol.slice(0, -1)
  const pool = new Pool(new URL(upstream.url).origin, {
    connections: 128,
    keepAliveTimeout: 60_000,
    headersTimeout: config.UPSTREAM_TIMEOUT_MS,
    bodyTimeout: config.UPSTREAM_TIMEOUT_MS
  })

  function requestHeaders (request: Request): IncomingHttpHeaders {
    const headers = request.headers
    const out: IncomingHttpHeaders = {}
    for (const name in headers) {
      if (!HOP_BY_HOP.has(name) && !isClientClaim(name) && (name !== 'cookie' || upstream.forwardCookies)) out[name] = headers[name]
    }
    // Headers the client named in Connection are hop-by-hop too (removed before ours are added, so
    // a client cannot strip them).
    const connection = headers.connection
    if (connection !== undefined && connection !== 'keep-alive' && connection !== 'close') {
      for (const token of connection.split(',')) Reflect.deleteProperty(out, token.trim().toLowerCase())
    }
    out['x-request-id'] = request.id
    out[IDENTITY_HEADER] = assertionFor(request.user as FastifyRequest['user'], request.ip)
    out['x-forwarded-for'] = request.ip
    out['x-forwarded-proto'] = proto
    out['x-forwarded-host'] = publicUrl.host
    return out
  }

  /**
   * A body without a length (chunked) is counted as it streams: over BODY_LIMIT_BYTES the upstream
   * request fails with a 413 (one with a length too large is refused before it is read, app.ts).
   */
  function limited (body: Readable): Readable {
    let seen = 0
    const counter = new Transform({
      transform (chunk: Buffer, _encoding, callback) {
        seen += chunk.length
        callback(seen > config.BODY_LIMIT_BYTES ? new PayloadTooLarge(config.BODY_LIMIT_BYTES) : null, chunk)
      }
    })
    return pipeline(body, counter, () => {})
  }

  function requestBody (request: Request, method: string): Readable | null {
    if (method === 'GET' || method === 'HEAD') return null
    // http-proxy's content-type parser hands the request body over unread, as a stream.
    const body = request.body as Readable | undefined
    if (body === undefined) return null
    return request.headers['content-length'] === undefined ? limited(body) : body
  }

  function fail (reply: Reply, error: Error): void {
    if (error instanceof PayloadTooLarge) {
      if (!reply.sent) void reply.send(error)
      return
    }
    const code = errorCode(error)
    reply.request.log.warn({ upstream: upstream.name, code }, 'upstream failed')
    if (reply.sent) return
    // Refused, or a kept-alive connection the service closed (it is shutting down) before it
    // answered: the request was not served, and the client may retry it.
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') {
      void reply.header('retry-after', '5').send(new UpstreamUnavailable(upstream.name))
    } else if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
      void reply.send(new UpstreamTimeout(upstream.name))
    } else {
      void reply.send(new BadGateway(upstream.name))
    }
  }

  function respond (request: Request, reply: Reply, statusCode: number, headers: IncomingHttpHeaders, body: Readable): void {
    if (reply.raw.destroyed) { // the client is gone
      body.destroy()
      return
    }
    try {
      void reply.code(statusCode)
    } catch (error) { // a status Fastify cannot send
      body.destroy()
      fail(reply, error as Error)
      return
    }
    for (const name in headers) {
      if (!HOP_BY_HOP.has(name)) void reply.header(name, headers[name])
    }
    const length = Number(headers['content-length'])
    if (!(length <= BUFFERED_BODY_LIMIT) || request.method === 'HEAD') {
      void reply.send(body)
      return
    }
    const chunks: Buffer[] = []
    body.on('data', (chunk: Buffer) => { chunks.push(chunk) })
    body.once('end', () => { void reply.send(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)) })
    body.once('error', (error) => {
      // Cut short after it began: served in part, so a 502 (not a retryable 503), and its status and
      // headers must not go out as if the answer were whole.
      request.log.warn({ upstream: upstream.name, code: errorCode(error) }, 'upstream answer broke off')
      if (!reply.sent) void reply.code(502).send(new BadGateway(upstream.name))
    })
  }

  const forward = (request: Request, reply: Reply, dest: string): Reply => {
    const url = request.raw.url ?? ''
    const query = url.indexOf('?')
    const method = request.method as Dispatcher.HttpMethod
    pool.request({
      path: query < 0 ? dest : dest + url.slice(query),
      method,
      headers: requestHeaders(request),
      body: requestBody(request, method)
    }, (error, res) => {
      if (error !== null) fail(reply, error)
      else respond(request, reply, res.statusCode, res.headers as IncomingHttpHeaders, res.body)
    })
    return reply
  }
  return { forward, close: async () => { await pool.close() } }
}

export default async function proxyRoutes (app: FastifyInstance, { config }: { config: GatewayConfig }) {
  const assertionFor = assertionCache(config)

  for (const upstream of upstreamsOf(config)) {
    const forwarder = upstreamForwarder(upstream, config, assertionFor)
    app.addHook('onClose', forwarder.close)
    await app.register(httpProxy, {
      upstream: upstream.url,
      prefix: upstream.prefix,
      rewritePrefix: upstream.prefix,
      disableRequestLogging: true,
      handler: forwarder.forward
    })
  }

  // A logout must take effect at once, even before auth's revocation message arrives.
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.sessionId !== null && request.method === 'POST' && request.url.startsWith('/auth/logout')) app.sessions.forget(request.sessionId)
    done()
  })
}
