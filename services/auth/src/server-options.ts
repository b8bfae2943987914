import { REDACTED_PATHS, createServerOptions, type ServerOptionsConfig } from '@pulse/service-kit'
import type { FastifyServerOptions } from 'fastify'

/**
 * Query parameters that carry OAuth credentials on the way back from a provider: the code, the
 * state, X's request token and verifier. Request log lines show the URL, so their values are
 * replaced before it is logged.
 */
const SECRET_QUERY_PARAMETERS = new Set(['code', 'state', 'oauth_token', 'oauth_verifier', 'denied'])

export function redactUrl (url: string): string {
  const at = url.indexOf('?')
  if (at === -1) return url
  const params = new URLSearchParams(url.slice(at + 1))
  let changed = false
  for (const name of new Set(params.keys())) {
    if (SECRET_QUERY_PARAMETERS.has(name)) {
      params.set(name, '[redacted]')
      changed = true
    }
  }
  return changed ? `${url.slice(0, at)}?${params.toString()}` : url
}

interface LoggedRequest { method: string, url: string, host?: string, ip?: string, socket?: { remotePort?: number } }

/**
 * The kit's server options with auth's request serializer (callback URLs redacted). Shared by
 * server.ts and the tests; a `logger` override (tests pass a stream) keeps the redaction.
 */
export function authServerOptions (config: ServerOptionsConfig, overrides: FastifyServerOptions = {}): FastifyServerOptions {
  const options = createServerOptions(config, overrides)
  if (typeof options.logger !== 'object' || options.logger === null) return options
  const logger = options.logger as Record<string, unknown>
  return {
    ...options,
    logger: {
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      ...logger,
      serializers: {
        ...(logger.serializers as object | undefined),
        req: (request: LoggedRequest) => ({
          method: request.method,
          url: redactUrl(request.url),
          host: request.host,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort
        })
      }
    }
  }
}
