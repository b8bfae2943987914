import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'
import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * helmet's security headers, computed once at start-up and set on every response. Running
 * helmet per request (as @fastify/helmet does) re-derives the same static headers each time:
 * measurable on the gateway's hot path (bench/RESULTS.md), for no difference in what is sent.
 */
export function helmetHeaders (options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const res = {
    setHeader: (name: string, value: string | number | string[]) => { headers[name.toLowerCase()] = String(value) },
    removeHeader: (name: string) => { Reflect.deleteProperty(headers, name.toLowerCase()) },
    getHeader: (name: string) => headers[name.toLowerCase()]
  }
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, () => {})
  return headers
}

async function securityHeadersPlugin (app: FastifyInstance, options: HelmetOptions) {
  const headers = helmetHeaders(options)
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers)
    done()
  })
}

export default fp(securityHeadersPlugin, { name: 'gateway-security-headers', fastify: '5.x' })
