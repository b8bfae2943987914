import { AUTH_STREAM, ErrorResponseSchema, METRICS_STREAM, NOTIFY_STREAM } from '@pulse/contracts'
import { natsPlugin, sessionKey } from '@pulse/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { OutgoingHttpHeaders } from 'node:http'
import Type from 'typebox'
import type { GatewayConfig } from '../config.js'
import { GatewayUnauthenticatedError } from '../errors.js'
import { AccountEvents } from '../events/account-events.js'
import { LiveEvents } from '../events/live-events.js'
import { gatewayMetricsOf } from '../metrics.js'
import { SseStream } from '../sse.js'

interface OpenStream {
  sse: SseStream
  userId: string
  sessionId: string
  /** When the session reaches its absolute lifetime (ms since the epoch). */
  endsAt: number
}

/** The last event of a stream, before it is closed: why (the dashboard then stops reconnecting). */
const ended = (reason: 'session_ended' | 'too_many_streams') => `event: stream.closed\ndata: ${JSON.stringify({ reason })}\n\n`

/**
 * GET /events: Server-Sent Events for the logged-in user — `metrics.refreshed` and
 * `metrics.refresh.failed` of their own accounts only, `export.ready` when their data export is ready, a heartbeat comment every
 * EVENTS_HEARTBEAT_MS, and catch-up from `Last-Event-ID` within EVENTS_REPLAY_WINDOW_S.
 * A stream lives no longer than its session: a logout or revocation (announced on Redis) ends it at
 * once, an idle expiry within EVENTS_SESSION_CHECK_MS, the absolute lifetime on time. At most
 * EVENTS_MAX_STREAMS_PER_USER per user on one gateway (a new one closes the oldest), and at most
 * EVENTS_MAX_BUFFER_BYTES unread per stream.
 */
export default async function eventsRoutes (fastify: FastifyInstance, { config }: { config: GatewayConfig }) {
  // The route's request and reply types come from its schema.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  await app.register(natsPlugin, { url: config.NATS_URL, name: 'gateway', prefix: config.NATS_PREFIX, streams: [METRICS_STREAM, AUTH_STREAM, NOTIFY_STREAM], streamReplicas: config.NATS_STREAM_REPLICAS })
  const live = new LiveEvents(app.nats, { replayWindowMs: config.EVENTS_REPLAY_WINDOW_S * 1000, perUser: config.EVENTS_PER_USER, log: app.log })
  await live.start()
  const account = new AccountEvents(app.nats, app.log)
  account.start()
  const metrics = gatewayMetricsOf(app.metrics)
  const byUser = new Map<string, OpenStream[]>()
  const bySession = new Map<string, Set<OpenStream>>()

  const add = (stream: OpenStream) => {
    byUser.set(stream.userId, [...byUser.get(stream.userId) ?? [], stream])
    const set = bySession.get(stream.sessionId) ?? new Set()
    set.add(stream)
    bySession.set(stream.sessionId, set)
    stream.sse.onClose(() => {
      const rest = (byUser.get(stream.userId) ?? []).filter((s) => s !== stream)
      if (rest.length === 0) byUser.delete(stream.userId)
      else byUser.set(stream.userId, rest)
      set.delete(stream)
      if (set.size === 0) bySession.delete(stream.sessionId)
    })
  }

  /** Ends the streams of sessions that no longer exist in Redis or have reached their absolute lifetime. */
  const checkSessions = async (sessionIds: string[]) => {
    if (sessionIds.length === 0) return
    let exists: number[]
    try {
      const results = await app.redis.pipeline(sessionIds.map((id) => ['exists', sessionKey(id)])).exec()
      exists = (results ?? []).map(([error, value]) => (error === null ? Number(value) : 1))
    } catch (err) {
      // Without Redis nothing can be decided: streams stay open until the next check.
      app.log.warn({ err: { message: (err as Error).message } }, 'live event sessions not checked')
      return
    }
    const now = Date.now()
    sessionIds.forEach((id, i) => {
      for (const stream of [...bySession.get(id) ?? []]) {
        if (exists[i] === 0 || stream.endsAt <= now) stream.sse.end(ended('session_ended'))
      }
    })
  }
  const checkAll = () => { void checkSessions([...bySession.keys()]) }
  const periodic = setInterval(checkAll, config.EVENTS_SESSION_CHECK_MS)
  periodic.unref()
  const stopListening = app.sessions.onForget((sessionId) => {
    if (sessionId === null) checkAll()
    else if (bySession.has(sessionId)) void checkSessions([sessionId])
  })

  app.addHook('preClose', async () => {
    live.stop()
    account.stop()
    clearInterval(periodic)
    stopListening()
    for (const set of [...bySession.values()]) for (const stream of [...set]) stream.sse.end()
  })

  app.get('/events', {
    schema: {
      summary: 'Live updates of the logged-in user\'s metrics (Server-Sent Events)',
      tags: ['live'],
      headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })) }),
      response: { 200: Type.String({ description: 'text/event-stream: `metrics.refreshed`, `metrics.refresh.failed`, `metrics.activity`, `stream.changed` `connection.revoked`, `export.ready` and `notification` events' }), 401: ErrorResponseSchema }
    }
  }, async (request, reply) => {
    const user = request.user
    const sessionId = request.sessionId
    if (user === null || sessionId === null) throw new GatewayUnauthenticatedError()
    const header = request.headers['last-event-id']
    const lastEventId = header !== undefined && header !== '' ? Number(header) : undefined
    const res = reply.raw
    // hijacked: the headers set by earlier hooks (request id, CORS, security) are written here
    reply.hijack()
    res.writeHead(200, {
      'x-request-id': request.id,
      ...(reply.getHeaders() as OutgoingHttpHeaders),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    })
    const sse = new SseStream(res, config.EVENTS_MAX_BUFFER_BYTES)
    sse.send(`retry: 3000\n: connected\n\n`)
    const mine = byUser.get(user.userId) ?? []
    for (const oldest of mine.slice(0, Math.max(0, mine.length - config.EVENTS_MAX_STREAMS_PER_USER + 1))) oldest.sse.end(ended('too_many_streams'))
    const stream: OpenStream = { sse, userId: user.userId, sessionId, endsAt: user.createdAt + config.SESSION_ABSOLUTE_TIMEOUT_S * 1000 }
    add(stream)
    metrics?.openStreams.inc()
    const unsubscribe = live.subscribe(user.userId, lastEventId, (e) => {
      if (!sse.send(`id: ${e.id}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`)) request.log.info({ userId: user.userId }, 'live events: slow reader dropped')
    })
    const unsubscribeAccount = account.subscribe(user.userId, (e) => { sse.send(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`) })
    const heartbeat = setInterval(() => sse.heartbeat(), config.EVENTS_HEARTBEAT_MS)
    // setTimeout cannot wait longer than about 24.8 days; the periodic check covers what is beyond.
    const lifetime = stream.endsAt - Date.now()
    const absolute = lifetime < 2 ** 31 - 1 ? setTimeout(() => sse.end(ended('session_ended')), Math.max(0, lifetime)) : undefined
    sse.onClose(() => {
      metrics?.openStreams.dec()
      clearInterval(heartbeat)
      clearTimeout(absolute)
      unsubscribe()
      unsubscribeAccount()
    })
  })
}
