import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ErrorResponse } from '@pulse/contracts'
import { isDependencyUnavailable, statusCodeName } from '../http-errors.js'

export interface ErrorsPluginOptions {
  /** The service's code prefix: MOOD, AUTH, GATEWAY… */
  prefix: string
}

/** Fastify's own error codes that clients cause, with the name they get in our catalogue. */
const FASTIFY_CLIENT_ERRORS: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'EMPTY_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON'
}

/**
 * One error shape for every reply, `{ statusCode, error, message, code }`, with the service's
 * prefix on every code. 5xx internals go to the log with the request id, never to the client.
 */
async function errorsPlugin (app: FastifyInstance, { prefix }: ErrorsPluginOptions) {
  const shape = (statusCode: number, message: string, code: string): ErrorResponse =>
    ({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, code })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation !== undefined) {
      return reply.code(400).send(shape(400, error.message, `${prefix}_VALIDATION`))
    }
    if (error.code?.startsWith('FST_ERR_CTP_') === true || (error instanceof SyntaxError && (error as FastifyError).statusCode === 400)) {
      const status = error.statusCode ?? 400
      const name = FASTIFY_CLIENT_ERRORS[error.code] ?? statusCodeName(status)
      return reply.code(status).send(shape(status, error.message, `${prefix}_${name}`))
    }
    const ours = typeof error.code === 'string' && error.code.startsWith(`${prefix}_`)
    if (!ours && isDependencyUnavailable(error)) {
      request.log.error({ err: error }, 'dependency unavailable')
      void reply.header('retry-after', '5')
      return reply.code(503).send(shape(503, 'A dependency is unavailable; retry shortly', `${prefix}_UNAVAILABLE`))
    }
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
    if (statusCode >= 500 && !ours) {
      request.log.error({ err: error }, 'request failed')
      return reply.code(statusCode).send(shape(statusCode, 'Something went wrong on our side', `${prefix}_INTERNAL`))
    }
    if (statusCode >= 500) request.log.error({ err: error }, 'request failed')
    // A service's own 503 (a dependency it checks itself: the gateway's session store) says when to
    // retry, as the kit's does.
    if (statusCode === 503 && !reply.hasHeader('retry-after')) void reply.header('retry-after', '5')
    const code = ours ? error.code : `${prefix}_${statusCodeName(statusCode)}`
    return reply.code(statusCode).send(shape(statusCode, error.message, code))
  })

  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send(shape(404, `Route ${request.method} ${request.url.split('?')[0]} not found`, `${prefix}_NOT_FOUND`))
  })
}

export default fp(errorsPlugin, { name: 'pulse-errors', fastify: '5.x' })
