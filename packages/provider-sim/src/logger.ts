import type { FastifyServerOptions } from 'fastify'

/**
 * Pino options for the simulator. Tokens and secrets must never reach a log line: the
 * Authorization header is redacted, and request lines carry the path only, because Twitch's
 * token endpoint takes client_secret, code and refresh_token in the query string (docs/providers.md §1.1).
 */
export function simLogger (level = 'info'): NonNullable<FastifyServerOptions['logger']> {
  return {
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    serializers: {
      req (request: { method: string, url: string, hostname?: string, ip?: string }) {
        return { method: request.method, path: request.url.split('?')[0], remoteAddress: request.ip }
      }
    }
  }
}
