import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { isDeepStrictEqual } from 'node:util'
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

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/GatewayError' } } } })

/**
 * The gateway's own routes, documented here because the gateway has no schema-generated document of
 * its own; they are part of the API a client (and the fuzzer) sees.
 */
export const GATEWAY_PATHS: Record<string, unknown> = {
  '/events': {
    get: {
      summary: 'Live updates of the logged-in user\'s metrics (Server-Sent Events)',
      tags: ['live'],
      parameters: [{ name: 'last-event-id', in: 'header', required: false, schema: { type: 'string', pattern: '^[0-9]{1,15}$' } }],
      responses: { 200: { description: 'text/event-stream: `metrics.refreshed`, `metrics.refresh.failed`, `metrics.activity`, `stream.changed` and `connection.revoked` events', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 401: errorResponse('Not logged in') }
    }
  },
  '/health': { get: { summary: 'The gateway process answers', tags: ['operations'], security: [], responses: { 200: { description: 'Alive', content: { 'application/json': { schema: { type: 'object', properties: { status: { type: 'string' } } } } } } } } },
  '/ready': { get: { summary: 'The gateway can serve (Redis answers)', tags: ['operations'], security: [], responses: { 200: { description: 'Ready', content: { 'application/json': { schema: { type: 'object' } } } }, 503: errorResponse('A dependency does not answer') } } },
  '/docs': { get: { summary: 'This reference, as a page (Swagger UI)', tags: ['operations'], security: [], responses: { 200: { description: 'HTML' }, 302: { description: 'To the page' } } } },
  '/docs/json': { get: { summary: 'This reference, as OpenAPI 3 JSON', tags: ['operations'], security: [], responses: { 200: { description: 'The document', content: { 'application/json': { schema: { type: 'object' } } } } } } }
}

const GATEWAY_SCHEMAS: Record<string, unknown> = {
  GatewayError: {
    type: 'object',
    required: ['statusCode', 'error', 'message', 'code'],
    properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' }, code: { type: 'string' } }
  }
}

/** One service's document, as fetched from its /openapi.json. */
export interface ServiceDocument {
  name: string
  /** The paths the gateway routes to this service (one prefix or several); paths outside them are not reachable and left out. */
  prefix: string | readonly string[]
  doc: OpenApiDocument
}

/**
 * The paths, schemas and tags of every service's document together with the gateway's own. Two
 * services claiming the same path, or the same schema name for different schemas, would silently
 * overwrite each other (a client would see one service's contract for the other's route), so they
 * are refused with an error naming both. The same definition under the same name (a schema both
 * take from the shared contracts) is one schema, not a conflict.
 */
export function mergeDocuments (parts: ServiceDocument[]): { paths: Record<string, unknown>, schemas: Record<string, unknown>, tags: { name: string }[] } {
  const paths: Record<string, unknown> = { ...GATEWAY_PATHS }
  const pathOwner = new Map(Object.keys(GATEWAY_PATHS).map((path) => [path, 'gateway']))
  const schemas: Record<string, unknown> = { ...GATEWAY_SCHEMAS }
  const schemaOwner = new Map(Object.keys(GATEWAY_SCHEMAS).map((name) => [name, 'gateway']))
  const tags = new Map<string, { name: string }>()
  for (const { name, prefix, doc } of [...parts].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      // Checked before the prefix: a path in the wrong service's document is a mistake either way.
      const owner = pathOwner.get(path)
      if (owner !== undefined) throw new Error(`OpenAPI: ${owner} and ${name} both document the path ${path}`)
      pathOwner.set(path, name)
      if ((typeof prefix === 'string' ? [prefix] : prefix).some((p) => path.startsWith(p))) paths[path] = item
    }
    for (const [schemaName, schema] of Object.entries(doc.components?.schemas ?? {})) {
      const owner = schemaOwner.get(schemaName)
      if (owner !== undefined && !isDeepStrictEqual(schemas[schemaName], schema)) throw new Error(`OpenAPI: ${owner} and ${name} both define a different schema named ${schemaName}`)
      schemaOwner.set(schemaName, owner ?? name)
      schemas[schemaName] = schema
    }
    for (const tag of doc.tags ?? []) tags.set(tag.name, tag)
  }
  return { paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))), schemas, tags: [...tags.values()] }
}

/**
 * One OpenAPI 3 document for the whole API, assembled from each service's own /openapi.json
 * (generated there from the schemas in @pulse/contracts) and the gateway's own routes, re-read when
 * older than DOCS_CACHE_MS. A service that does not answer is left out and named in the description.
 * At start a conflict between two documents stops the gateway; later (a service deployed with a
 * conflict while the gateway runs) the last good document is kept and the conflict logged.
 */
export default async function docsRoutes (app: FastifyInstance, { config }: { config: GatewayConfig }) {
  const cookieName = app.sessions.cookieName
  const document: OpenApiDocument = { openapi: '3.0.3', info: {}, paths: {}, components: {} }
  let assembledAt = 0
  let assembling: Promise<void> | undefined

  async function assemble () {
    const parts: ServiceDocument[] = []
    const missing: string[] = []
    // One document per service, whichever prefixes route to it (twitch-ingest: /twitch and /webhooks/twitch).
    const services = new Map<string, { url: string, prefixes: string[] }>()
    for (const upstream of upstreamsOf(config)) {
      const known = services.get(upstream.name)
      if (known === undefined) services.set(upstream.name, { url: upstream.url, prefixes: [upstream.prefix] })
      else known.prefixes.push(upstream.prefix)
    }
    await Promise.all([...services].map(async ([name, upstream]) => {
      try {
        const res = await fetch(`${upstream.url}/openapi.json`, { signal: AbortSignal.timeout(2000) })
        if (!res.ok) throw new Error(`status ${res.status}`)
        parts.push({ name, prefix: upstream.prefixes, doc: await res.json() as OpenApiDocument })
      } catch {
        missing.push(name)
      }
    }))
    const { paths: sortedPaths, schemas, tags } = mergeDocuments(parts)
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
      ...(tags.length > 0 ? { tags } : {})
    })
    assembledAt = Date.now()
  }

  await app.register(swagger, { mode: 'static', specification: { document: document as never } })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { withCredentials: true } as never })

  app.addHook('onReady', assemble)
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/docs/json') && !request.url.startsWith('/docs/yaml')) return
    if (Date.now() - assembledAt > config.DOCS_CACHE_MS) {
      assembling ??= assemble().catch((err: unknown) => {
        // Keep answering with the last good document; try again after DOCS_CACHE_MS.
        assembledAt = Date.now()
        request.log.error({ err }, 'the API reference could not be assembled')
      }).finally(() => { assembling = undefined })
      await assembling
    }
  })
}
