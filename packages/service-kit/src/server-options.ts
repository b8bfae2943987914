import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { LogController, type FastifyServerOptions } from 'fastify'
import { requestContext, traceLogFields } from './tracing.js'
import { schemaErrorFormatter } from './validation.js'

export const REQUEST_ID_HEADER = 'x-request-id'
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Keeps a caller's request id when it is a sane token, otherwise makes a new one. */
export function requestIdFrom (req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER]
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID()
}

/** Never logged, wherever they appear in a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-pulse-identity"]',
  'res.headers["set-cookie"]', '*.password', '*.accessToken', '*.refreshToken', '*.token', '*.secret'
]

/**
 * Request log lines carry the path only: query strings can hold one-time secrets (an OAuth `code`,
 * an `oauth_verifier`, a `state`) that must never reach the logs.
 */
export function serializeRequest (req: { method: string, url: string, headers?: Record<string, unknown>, ip?: string, socket?: { remotePort?: number } }) {
  const q = req.url.indexOf('?')
  return { method: req.method, url: q < 0 ? req.url : `${req.url.slice(0, q)}?[redacted]`, remoteAddress: req.ip, remotePort: req.socket?.remotePort }
}

/**
 * Fields every log line gets: the trace and span ids when tracing is on, and the request id in
 * work started by an event (a consumer's lines; a request's lines have it from Fastify already).
 */
export function logMixin (): Record<string, string> {
  const store = requestContext.getStore()
  const fields: Record<string, string> = traceLogFields()
  if (store?.fromEvent === true) fields.requestId = store.requestId
  return fields
}

export interface ServerOptionsConfig {
  LOG_LEVEL: string
  REQUEST_TIMEOUT_MS: number
  BODY_LIMIT_BYTES: number
}

/**
 * Fastify's options for every service: shared by server.ts and the tests, so tests validate and
 * log like production. `logger` may be replaced (tests pass a stream to read log lines).
 */
export function createServerOptions (config: ServerOptionsConfig, overrides: FastifyServerOptions = {}): FastifyServerOptions {
  const logger = { level: config.LOG_LEVEL, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, serializers: { req: serializeRequest }, mixin: logMixin }
  return {
    genReqId: requestIdFrom,
    requestIdHeader: false,
    // Probes hit /health and /ready every few seconds: their request lines are noise.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: (req: { url?: string }) => req.url === '/health' || req.url === '/ready' }),
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    connectionTimeout: config.REQUEST_TIMEOUT_MS + 5000,
    keepAliveTimeout: 72_000,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // While draining, a request that arrives on an open keep-alive connection is served like the
    // ones in flight (Node answers it with `Connection: close`); a bare 503 would be a failure the
    // client did not need to see.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    schemaErrorFormatter,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    ...overrides,
    // A test's logger (a level, a stream) keeps the redaction and serializers of production.
    logger: typeof overrides.logger === 'object' && overrides.logger !== null ? { ...logger, ...overrides.logger } : overrides.logger ?? logger
  }
}
