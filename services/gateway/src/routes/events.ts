import { ErrorResponseSchema, METRICS_STREAM } from '@pulse/contracts'
import { natsPlugin } from '@pulse/service-kit'
import createError from '@fastify/error'
import type { FastifyInstance } from 'fastify'
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { GatewayConfig } from '../config.js'
import { LiveEvents } from '../live-events.js'

const NotLoggedIn = createError('GATEWAY_UNAUTHENTICATED', 'Log in first', 401)

/**
 * GET /events: Server-Sent Events for the logged-in user — `metrics.refreshed` and
 * `metrics.refresh.failed` of their own accounts only, a heartbeat comment every
 * EVENTS_HEARTBEAT_MS, and catch-up from `Last-Event-ID` within EVENTS_REPLAY_WINDOW_S.
 */
export default async function eventsRoutes (app: FastifyInstance, { config }: { config: GatewayConfig }) {
  await app.register(natsPlugin, { url: config.NATS_URL, name: 'gateway', prefix: config.NATS_PREFIX, streams: [METRICS_STREAM] })
  const live = new LiveEvents(app.nats, { replayWindowMs: config.EVENTS_REPLAY_WINDOW_S * 1000, perUser: config.EVENTS_PER_USER, log: app.log })
  await live.start()
  const open = new Set<ServerResponse>()
  app.addHook('preClose', async () => {
    live.stop()
    for (const res of open) res.end()
  })

  app.get('/events', {
    schema: {
      summary: 'Live updates of the logged-in user\'s metrics (Server-Sent Events)',
      tags: ['live'],
      headers: { type: 'object', properties: { 'last-event-id': { type: 'string', pattern: '^[0-9]{1,15}$' } } },
      response: { 200: { description: 'text/event-stream: `metrics.refreshed` and `metrics.refresh.failed` events', type: 'string' }, 401: ErrorResponseSchema }
    }
  }, async (request, reply) => {
    const user = request.user
    if (user === null) throw new NotLoggedIn()
    const header = request.headers['last-event-id']
    const lastEventId = typeof header === 'string' && header !== '' ? Number(header) : undefined
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
    res.write(`retry: 3000\n: connected\n\n`)
    open.add(res)
    const unsubscribe = live.subscribe(user.userId, lastEventId, (e) => {
      res.write(`id: ${e.id}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`)
    })
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), config.EVENTS_HEARTBEAT_MS)
    request.raw.once('close', () => {
      clearInterval(heartbeat)
      unsubscribe()
      open.delete(res)
    })
  })
}
