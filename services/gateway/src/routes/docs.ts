import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { GatewayConfig } from '../config.js'
import { upstreamsOf } from './proxy.js'

interface OpenApiDocument {
  openapi: string
  info: Record<string, unknown>
  servers?: unknown[]
  paths: Record<string, unknown>
  components: { schemas?: Record<string, unknown>, securitySchemes?: Record<string, unknown> }
  security?: unknown[]
  tags?: { name: string }[]
}

/**
 * One OpenAPI 3 document for the whole API, assembled from each service's own /openapi.json
 * (generated there from the schemas in @pulse/contracts) and re-read when older than DOCS_CACHE_MS.
 * A service that does not answer is left out and named in the description.
 */
export default async function docsRoutes (app: FastifyInstance, { config }: { config: GatewayConfig }) {
  const cookieName = app.sessions.cookieName
  const document: OpenApiDocument = { openapi: '3.0.3', info: {}, paths: {}, components: {} }
  let assembledAt = 0
  let assembling: Promise<void> | undefined

  async function assemble () {
    const paths: Record<string, unknown> = {}
    const schemas: Record<string, unknown> = {}
    const tags = new Map<string, { name: string }>()
    const missing: string[] = []
    await Promise.all(upstreamsOf(config).map(async (upstream) => {
      try {
        const res = await fetch(`${upstream.url}/openapi.json`, { signal: AbortSignal.timeout(2000) })
        if (!res.ok) throw new Error(`status ${res.status}`)
        const doc = await res.json() as OpenApiDocument
        for (const [path, item] of Object.entries(doc.paths ?? {})) {
          if (path.startsWith(upstream.prefix)) paths[path] = item
        }
        Object.assign(schemas, doc.components?.schemas ?? {})
        for (const tag of doc.tags ?? []) tags.set(tag.name, tag)
      } catch {
        missing.push(upstream.name)
      }
    }))
    const sortedPaths = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)))
    for (const key of Object.keys(document)) delete (document as unknown as Record<string, unknown>)[key]
    Object.assign(document, {
      openapi: '3.0.3',
      info: {
        title: 'Pulse API',
        version: '1.0.0',
        description: 'The public API of Pulse, reached through the gateway. Errors answer `{ statusCode, error, message, code }` with an `x-request-id` header.' +
          (missing.length > 0 ? `\n\nNot answering right now, so not listed: ${missing.sort().join(', ')}.` : '')
      },
      servers: [{ url: config.PUBLIC_URL }],
      paths: sortedPaths,
      components: { schemas, securitySchemes: { sessionCookie: { type: 'apiKey', in: 'cookie', name: cookieName } } },
      security: [{ sessionCookie: [] }],
      ...(tags.size > 0 ? { tags: [...tags.values()] } : {})
    })
    assembledAt = Date.now()
  }

  await app.register(swagger, { mode: 'static', specification: { document: document as never } })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { withCredentials: true } as never })

  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/docs/json') && !request.url.startsWith('/docs/yaml')) return
    if (Date.now() - assembledAt > config.DOCS_CACHE_MS) {
      assembling ??= assemble().finally(() => { assembling = undefined })
      await assembling
    }
  })
}
