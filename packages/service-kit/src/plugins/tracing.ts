import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Span } from '@opentelemetry/api'
import { UNMATCHED_ROUTE } from '../metrics.js'
import { tracer } from '../tracing.js'

const spans = new WeakMap<FastifyRequest, { span: Span, ctx: Context }>()

/**
 * A server span per request, continuing the caller's trace (W3C `traceparent`), named by route
 * pattern. The span is made the active context for the handler in preHandler, after the body was
 * read: body events run in the socket's async context, so a context entered earlier would be lost.
 * Only registered when tracing is on.
 */
async function tracingPlugin (app: FastifyInstance, { service }: { service: string }) {
  const t = tracer(service)
  app.addHook('onRequest', (request, reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers)
    const span = t.startSpan(request.method, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'pulse.request_id': request.id }
    }, parent)
    const ctx = trace.setSpan(parent, span)
    spans.set(request, { span, ctx })
    // 'close' comes for every answer, a hijacked stream's and an aborted one's too.
    reply.raw.once('close', () => {
      const route = request.routeOptions.url ?? UNMATCHED_ROUTE
      span.updateName(`${request.method} ${route}`)
      span.setAttribute('http.route', route)
      span.setAttribute('http.response.status_code', reply.raw.statusCode)
      if (reply.raw.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
      span.end()
    })
    context.with(ctx, done)
  })
  app.addHook('preHandler', (request, _reply, done) => {
    const entry = spans.get(request)
    if (entry === undefined) { done(); return }
    context.with(entry.ctx, done)
  })
}

export default fp(tracingPlugin, { name: 'pulse-tracing', fastify: '5.x' })
