import { AsyncLocalStorage } from 'node:async_hooks'
import { context, propagation, ROOT_CONTEXT, trace, SpanKind, SpanStatusCode, type Context, type Span, type Tracer } from '@opentelemetry/api'
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'

/**
 * Tracing with OpenTelemetry. Off unless `startTracing` is called with an OTLP endpoint (or, in
 * tests, an exporter): then, and only then, the SDK is loaded. The API package alone is a no-op.
 *
 * Spans the kit makes itself: incoming requests (Fastify hooks, named by route pattern), Postgres
 * queries of the kit's pool, Redis commands, NATS publishes (the outbox relay's continue the trace of
 * the request that wrote the event) and NATS consumption. Outgoing HTTP (undici and `fetch`) comes
 * from @opentelemetry/instrumentation-undici, which listens on undici's diagnostics channels. The pg
 * and ioredis instrumentations patch those modules as they are loaded with `require`, which the
 * services' static ESM imports bypass: the kit wraps its own pool and client instead.
 */

/** The request or event a piece of work is for: its id travels to log lines and NATS headers. */
export interface RequestContext {
  requestId: string
  /** Work started by an event (a consumer): the log mixin adds the request id (Fastify's request logger has it already). */
  fromEvent?: boolean
}

export const requestContext = new AsyncLocalStorage<RequestContext>()

/** The id of the request (or of the request that caused the event) being handled, if any. */
export function currentRequestId (): string | undefined {
  return requestContext.getStore()?.requestId
}

let tracingOn = false

/** Whether `startTracing` loaded the SDK in this process. */
export function tracingEnabled (): boolean {
  return tracingOn
}

export function tracer (service: string): Tracer {
  return trace.getTracer(`pulse.${service}`)
}

/** Headers a trace context and a request id travel in: W3C Trace Context, and ours. */
export type Carrier = Record<string, string>
export const REQUEST_ID_CARRIER_KEY = 'x-request-id'

/** The current trace context (when tracing) and request id as headers, to store or to send. */
export function currentCarrier (ctx: Context = context.active()): Carrier {
  const carrier: Carrier = {}
  if (tracingOn) propagation.inject(ctx, carrier)
  const requestId = currentRequestId()
  if (requestId !== undefined) carrier[REQUEST_ID_CARRIER_KEY] = requestId
  return carrier
}

/** The context a carrier continues (ROOT when it holds none, or tracing is off). */
export function contextOf (carrier: Carrier | undefined): Context {
  if (!tracingOn || carrier === undefined) return ROOT_CONTEXT
  return propagation.extract(ROOT_CONTEXT, carrier)
}

/** Runs `fn` inside `span` (as the active span), recording a thrown error, and ends the span. */
export async function withSpan<T> (span: Span, parent: Context, fn: () => Promise<T>): Promise<T> {
  try {
    return await context.with(trace.setSpan(parent, span), fn)
  } catch (error) {
    span.recordException(error as Error)
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message })
    throw error
  } finally {
    span.end()
  }
}

/** The trace ids a log line carries (empty when tracing is off or no span is active). */
export function traceLogFields (): { trace_id?: string, span_id?: string } {
  if (!tracingOn) return {}
  const span = trace.getSpan(context.active())
  if (span === undefined) return {}
  const { traceId, spanId } = span.spanContext()
  return { trace_id: traceId, span_id: spanId }
}

export interface TracingOptions {
  /** `service.name` of every span of this process. */
  service: string
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL (`/v1/traces` is added), OTLP over HTTP. */
  endpoint?: string
  /** OTEL_TRACES_SAMPLER_ARG: the share of new traces recorded (0…1); a continued trace follows its parent's decision. */
  sampleRatio?: number
  /** Tests: spans go here (synchronously), instead of OTLP. */
  exporter?: SpanExporter
}

export interface Tracing {
  /** Sends what is buffered and stops. */
  shutdown: () => Promise<void>
}

/**
 * Loads the SDK and registers it globally (tracer provider, AsyncLocalStorage context, W3C Trace
 * Context propagation) when an endpoint or exporter is given; else does nothing and loads nothing.
 * Call it once, first thing in the process.
 */
export async function startTracing ({ service, endpoint, sampleRatio = 1, exporter }: TracingOptions): Promise<Tracing | undefined> {
  if (endpoint === undefined && exporter === undefined) return undefined
  const [{ NodeTracerProvider }, base, { resourceFromAttributes }, { registerInstrumentations }, { UndiciInstrumentation }, { HttpInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/instrumentation-http')
  ])
  let processor
  if (exporter !== undefined) {
    processor = new base.SimpleSpanProcessor(exporter)
  } else {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
    processor = new base.BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint!.replace(/\/$/, '')}/v1/traces` }))
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    sampler: new base.ParentBasedSampler({ root: new base.TraceIdRatioBasedSampler(sampleRatio) }),
    spanProcessors: [processor]
  })
  provider.register()
  const unregister = registerInstrumentations({
    instrumentations: [new UndiciInstrumentation(), new HttpInstrumentation({ ignoreIncomingRequestHook: () => true })]
  })
  tracingOn = true
  return {
    async shutdown () {
      tracingOn = false
      unregister()
      await provider.shutdown()
    }
  }
}

/** The settings of the tracing options every service has. */
export function tracingOptionsOf (config: { OTEL_EXPORTER_OTLP_ENDPOINT?: string, OTEL_TRACES_SAMPLER_ARG: number }): Pick<TracingOptions, 'endpoint' | 'sampleRatio'> {
  return { endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, sampleRatio: config.OTEL_TRACES_SAMPLER_ARG }
}

export { SpanKind, context, trace, propagation }
