import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ErrorResponseSchema, HealthResponseSchema, ReadyResponseSchema } from '@pulse/contracts'
import Type from 'typebox'

export type ReadinessCheck = () => Promise<unknown>

declare module 'fastify' {
  interface FastifyInstance {
    /** Named checks of this service's own dependencies; `/ready` runs them all. */
    readiness: Map<string, ReadinessCheck>
    /** Counts shown on `/ready` under `details` (dead-lettered events per consumer…). */
    readinessDetails: Map<string, () => Record<string, number>>
  }
  interface FastifyContextConfig {
    /** Public by design: no identity assertion needed. */
    public?: boolean
  }
}

export interface HealthPluginOptions {
  prefix: string
  /** How long one dependency may take to answer before it counts as failing. */
  checkTimeoutMs?: number
}

function withTimeout (check: ReadinessCheck, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    check(),
    new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('timed out')), ms) })
  ]).finally(() => clearTimeout(timer))
}

/** `/health`: the process runs. `/ready`: every dependency answers, else 503 naming the failing ones. */
async function healthPlugin (app: FastifyInstance, { prefix, checkTimeoutMs = 1000 }: HealthPluginOptions) {
  app.decorate('readiness', new Map<string, ReadinessCheck>())
  app.decorate('readinessDetails', new Map<string, () => Record<string, number>>())
  const details = () => app.readinessDetails.size === 0 ? {} : { details: Object.fromEntries([...app.readinessDetails].map(([name, read]) => [name, read()])) }

  app.get('/health', {
    config: { public: true },
    schema: { hide: true, response: { 200: HealthResponseSchema } } as object
  }, async () => ({ status: 'ok' as const }))

  app.get('/ready', {
    config: { public: true },
    schema: { hide: true, response: { 200: ReadyResponseSchema, 503: Type.Intersect([ErrorResponseSchema, Type.Object({ checks: Type.Optional(ReadyResponseSchema.properties.checks), details: ReadyResponseSchema.properties.details })]) } } as object
  }, async (request, reply) => {
    const names = [...app.readiness.keys()]
    const results = await Promise.allSettled(names.map((name) => withTimeout(app.readiness.get(name)!, checkTimeoutMs)))
    const checks: Record<string, 'ok' | 'failing'> = {}
    const failing: string[] = []
    results.forEach((result, i) => {
      const name = names[i]!
      checks[name] = result.status === 'fulfilled' ? 'ok' : 'failing'
      if (result.status === 'rejected') {
        failing.push(name)
        request.log.warn({ dependency: name, err: result.reason }, 'readiness check failed')
      }
    })
    if (failing.length === 0) return { status: 'ready' as const, checks, ...details() }
    return reply.code(503).send({
      statusCode: 503, error: 'Service Unavailable', message: `not ready: ${failing.join(', ')} not answering`, code: `${prefix}_NOT_READY`, checks, ...details()
    })
  })
}

export default fp(healthPlugin, { name: 'pulse-health', fastify: '5.x' })
