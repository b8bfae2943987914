import httpProxy from '@fastify/http-proxy'
import { IDENTITY_HEADER, signAssertion } from '@pulse/service-kit'
import type { FastifyInstance, FastifyReply, FastifyRequest, RawServerBase, RouteGenericInterface } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import { Stream, Transform, pipeline, type Readable } from 'node:stream'
import type { GatewayConfig } from '../config.js'
import { gatewayMetricsOf, statusClass, type GatewayMetrics } from '../metrics.js'
import { GatewayBadGatewayError, GatewayPayloadTooLargeError, GatewayUpstreamTimeoutError, GatewayUpstreamUnavailableError } from '../errors.js'

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
    { name: 'notify', prefix: '/notify', url: config.NOTIFY_URL, forwardCookies: false },
    { name: 'twitch-ingest', prefix: '/twitch', url: config.TWITCH_INGEST_URL, forwardCookies: false },
    // Twitch's EventSub callback: public, no session, and the body passes through untouched (it is
    // streamed, never parsed here), so the service checks the signature on the bytes Twitch sent.
    { name: 'twitch-ingest', prefix: '/webhooks/twitch', url: config.TWITCH_INGEST_URL, forwardCookies: false },
    { name: 'twitter-ingest', prefix: '/twitter', url: config.TWITTER_INGEST_URL, forwardCookies: false }
  ]
}

/**
 * Headers a client may not set for a service: identity and address claims are the gateway's alone
 * (docs/pitfalls.md, "Gateway and validation": reply-from forwards X-Forwarded-* unchanged unless they are replaced).
 */
function isClientClaim (name: string): boolean {
  return name.startsWith('x-forwarded-') || name.startsWith('x-pulse-') || name.startsWith('x-user') ||
    name === 'forwarded' || name === 'x-real-ip' || name === 'x-request-id' ||
    // The trace context is the gateway's own (the undici instrumentation adds it when tracing is
    // on, after these headers: a client's copy would make two).
    name === 'traceparent' || name === 'tracestate' || name === 'baggage'
}

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) that reply-from would pass on (it drops `connection`, the
 * headers it names, and `transfer-encoding`). `expect` is answered by Node's server (100-continue)
 * and undici refuses it.
 */
const HOP_BY_HOP = new Set(['keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'expect'])

/**
 * A request body without a length (chunked) is counted as it streams: over `limit` the upstream
 * request fails with a 413 (one with a length too large is refused before it is read, app.ts).
 */
function limitedBody (body: Readable, limit: number): Readable {
  let seen = 0
  const counter = new Transform({
    transform (chunk: Buffer, _encoding, callback) {
      seen += chunk.length
      callback(seen > limit ? new GatewayPayloadTooLargeError(limit) : null, chunk)
    }
  })
  return pipeline(body, counter, () => {})
}

/**
 * One signed assertion per user and address, reused for a third of its lifetime: signing costs an
 * HMAC, and services remember the assertions they verified, so reuse spares both sides. Each
 * upstream has its own cache: an assertion names the one service it is for (its audience).
 */
function assertionCache (config: GatewayConfig, audience: string) {
  const cache = new Map<string, { token: string, until: number }>()
  const reuseMs = (config.IDENTITY_TTL_S * 1000) / 3
  return (user: FastifyRequest['user'], clientIp: string): string => {
    const key = user === null ? `\0${clientIp}` : `${user.userId}\0${user.role}\0${user.timezone}\0${clientIp}`
    const now = Date.now()
    const hit = cache.get(key)
    if (hit !== undefined && hit.until > now) return hit.token
    const token = signAssertion({
      user: user === null ? null : { userId: user.userId, role: user.role, timezone: user.timezone },
      clientIp,
      audience
    }, config.IDENTITY_SECRET, config.IDENTITY_TTL_S, now)
    if (cache.size >= 50_000) cache.clear()
    cache.set(key, { token, until: now + reuseMs })
    return token
  }
}

/** Upstream answers up to this size are read whole and sent with their headers in one write. */
const BUFFERED_BODY_LIMIT = 64 * 1024

/**
 * Sends an upstream answer on. Small answers with a length (almost all of the API) are collected
 * and sent as one Buffer: headers and body leave in one write instead of a piped stream's several;
 * anything else (no length, large, HEAD) is streamed as it arrives.
 */
/** When the request left for the upstream (set as its headers are rewritten, just before sending). */
const sentUpstreamAt = new WeakMap<object, number>()

function observeUpstream (metrics: GatewayMetrics | null, request: FastifyRequest<RouteGenericInterface, RawServerBase>, upstream: string, status: number | 'error') {
  const sent = sentUpstreamAt.get(request)
  if (metrics === null || sent === undefined) return
  metrics.upstreamDuration.observe({ upstream, status_class: status === 'error' ? 'error' : statusClass(status) }, (performance.now() - sent) / 1000)
}

function forwardResponse (upstreamName: string, metrics: GatewayMetrics | null) {
  return (request: FastifyRequest<RouteGenericInterface, RawServerBase>, reply: FastifyReply<RouteGenericInterface, RawServerBase>, res: unknown): void => {
    const { headers, stream, statusCode } = res as { headers: IncomingHttpHeaders, stream: Readable, statusCode: number }
    observeUpstream(metrics, request, upstreamName, statusCode)
    const length = Number(headers['content-length'])
    if (!(length <= BUFFERED_BODY_LIMIT) || request.method === 'HEAD') {
      void reply.send(stream)
      return
    }
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => { chunks.push(chunk) })
    stream.once('end', () => { void reply.send(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)) })
    stream.once('error', (error) => {
      request.log.warn({ upstream: upstreamName, code: (error as Error & { code?: string }).code }, 'upstream answer broke off')
      if (!reply.sent) void reply.code(502).send(new GatewayBadGatewayError(upstreamName))
    })
  }
}

export default async function proxyRoutes (app: FastifyInstance, { config }: { config: GatewayConfig }) {
  const publicUrl = new URL(config.PUBLIC_URL)
  const proto = publicUrl.protocol.slice(0, -1)
  const metrics = gatewayMetricsOf(app.metrics)
  for (const upstream of upstreamsOf(config)) {
    const assertionFor = assertionCache(config, upstream.name)
    const rewriteRequestHeaders = (request: FastifyRequest<RouteGenericInterface, RawServerBase>, headers: IncomingHttpHeaders): IncomingHttpHeaders => {
      const out: IncomingHttpHeaders = {}
      for (const name in headers) {
        if (!isClientClaim(name) && !HOP_BY_HOP.has(name) && (name !== 'cookie' || upstream.forwardCookies)) out[name] = headers[name]
      }
      out['x-request-id'] = request.id
      out[IDENTITY_HEADER] = assertionFor(request.user as FastifyRequest['user'], request.ip)
      out['x-forwarded-for'] = request.ip
      out['x-forwarded-proto'] = proto
      out['x-forwarded-host'] = publicUrl.host
      if (metrics !== null) sentUpstreamAt.set(request, performance.now())
      return out
    }

    const onError = (reply: FastifyReply<RouteGenericInterface, RawServerBase>, { error }: { error: Error }) => {
      observeUpstream(metrics, reply.request, upstream.name, 'error')
      const failure = error as Error & { code?: string, cause?: { code?: string } }
      if (failure.cause instanceof GatewayPayloadTooLargeError) {
        void reply.send(failure.cause)
        return
      }
      const code = failure.cause?.code ?? failure.code
      reply.request.log.warn({ upstream: upstream.name, code }, 'upstream failed')
      // Refused, or a kept-alive connection the service closed (it is shutting down) before it
      // answered: the request was not served, and the client may retry it.
      if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'FST_REPLY_FROM_SERVICE_UNAVAILABLE' || code === 'EAI_AGAIN' ||
          code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') {
        void reply.header('retry-after', '5')
        void reply.send(new GatewayUpstreamUnavailableError(upstream.name))
        return
      }
      if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' ||
          error.name === 'TimeoutError' || code === 'FST_REPLY_FROM_GATEWAY_TIMEOUT') {
        void reply.send(new GatewayUpstreamTimeoutError(upstream.name))
        return
      }
      void reply.send(new GatewayBadGatewayError(upstream.name))
    }

    await app.register(httpProxy, {
      upstream: upstream.url,
      prefix: upstream.prefix,
      rewritePrefix: upstream.prefix,
      // reply-from's own info lines per request ("fetching from remote server"): Fastify's request
      // lines already say the same.
      disableRequestLogging: true,
      undici: {
        connections: 128,
        keepAliveTimeout: 60_000,
        headersTimeout: config.UPSTREAM_TIMEOUT_MS,
        bodyTimeout: config.UPSTREAM_TIMEOUT_MS
      },
      replyOptions: {
        rewriteRequestHeaders,
        onResponse: forwardResponse(upstream.name, metrics),
        onError,
        // reply-from retries a GET that got 503 up to ten times by default: a down service must
        // answer at once, not after a minute.
        retryDelay: () => null
      }
    })
  }

  // http-proxy's content-type parser hands the body over unread, as a stream, and reply-from sends it
  // on as it is: a chunked one is counted on the way.
  app.addHook('preHandler', (request, _reply, done) => {
    if (request.body instanceof Stream && request.headers['content-length'] === undefined) request.body = limitedBody(request.body as Readable, config.BODY_LIMIT_BYTES)
    done()
  })

  // A logout must take effect at once, even before auth's revocation message arrives.
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.sessionId !== null && request.method === 'POST' && request.url.startsWith('/auth/logout')) app.sessions.forget(request.sessionId)
    done()
  })
}
