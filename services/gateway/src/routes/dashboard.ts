import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { GatewayConfig } from '../config.js'

/** The dashboard's own pages (client-side routes): each answers with its index.html. */
export const DASHBOARD_PAGES = ['/', '/sign-in', '/dashboard', '/dashboard/*']

/** Vite names every file under assets/ by a hash of its content: a changed file gets a new name. */
const HASHED = `${path.sep}assets${path.sep}`

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pulse: the dashboard is not built</title></head>
<body><main><h1>The dashboard is not built yet</h1>
<p>The gateway serves the dashboard from <code>packages/dashboard/dist</code> (or <code>DASHBOARD_DIR</code>), and it is empty.
Build it with <code>pnpm --filter @pulse/dashboard build</code>; <code>pnpm start</code> does it for you.</p>
<p>The API answers meanwhile; its reference is at <a href="/docs">/docs</a>.</p></main></body></html>
`

/**
 * Serves the dashboard's build: the hashed assets cached for a year (their names change with their
 * content), everything else revalidated on every load so a new build shows at once; gzip and brotli
 * copies written by the build are sent as they are. Paths that are neither a file nor one of the
 * dashboard's pages keep the API's JSON 404.
 */
export default async function dashboardRoutes (app: FastifyInstance, { config }: { config: GatewayConfig }) {
  const root = path.resolve(config.DASHBOARD_DIR)
  const indexFile = path.join(root, 'index.html')

  // Static files need no session and no identity: mark them public like /health and /docs.
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config as object), public: true } as typeof route.config
  })

  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: true,
    index: false,
    preCompressed: true,
    cacheControl: false,
    // An empty folder is a valid state (not built yet), not a reason to refuse to start.
    suppressWarning: true,
    setHeaders: (reply, file) => {
      void reply.header('cache-control', file.includes(HASHED) ? 'public, max-age=31536000, immutable' : 'no-cache')
    }
  })

  const sendIndex = (reply: FastifyReply) => {
    // Checked per request, so a build made while the gateway runs is served without a restart.
    if (!existsSync(indexFile)) {
      return reply.code(503).header('cache-control', 'no-store').header('retry-after', '30').type('text/html; charset=utf-8').send(NOT_BUILT)
    }
    return reply.sendFile('index.html')
  }
  for (const page of DASHBOARD_PAGES) app.get(page, async (_request, reply) => sendIndex(reply))
}
