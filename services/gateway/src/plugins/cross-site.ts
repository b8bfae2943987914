import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { GatewayCrossSiteRequestError } from '../errors.js'

/** Methods that change state; a browser sends them cross-site with the user's cookie. */
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Path prefixes other sites call on purpose (provider webhooks, authenticated by their own
 * signature, never by the session cookie): exempt from the origin check.
 */
export const CROSS_SITE_EXEMPT_PREFIXES: readonly string[] = ['/webhooks/']

export interface CrossSiteOptions {
  /** The frontend's URL; only its origin may send unsafe requests with the user's cookie. */
  frontendUrl: string
  /** The gateway's own URL: its pages (the API reference's "try it out") are same-origin. */
  publicUrl: string
  exemptPrefixes?: readonly string[]
}

/**
 * Refuses state-changing requests a browser sends on behalf of another site. SameSite=Lax already
 * keeps the cookie off most of them, but not off same-site subdomains or older browsers, and a
 * form posting `text/plain` needs no CORS preflight. A browser always names the initiating site:
 * `Origin` on unsafe requests, and `Sec-Fetch-Site` where it sends that instead. A request with
 * neither is not from a browser (curl, scripts, services) and carries no ambient credentials.
 */
async function crossSitePlugin (app: FastifyInstance, { frontendUrl, publicUrl, exemptPrefixes = CROSS_SITE_EXEMPT_PREFIXES }: CrossSiteOptions) {
  const allowed = new URL(frontendUrl).origin
  const own = new URL(publicUrl).origin
  app.addHook('onRequest', (request, _reply, done) => {
    if (!UNSAFE_METHODS.has(request.method)) { done(); return }
    if (exemptPrefixes.some((prefix) => request.url.startsWith(prefix))) { done(); return }
    const origin = request.headers.origin
    if (origin !== undefined) {
      done(origin === allowed || origin === own ? undefined : new GatewayCrossSiteRequestError(request.method, `its Origin ${JSON.stringify(origin.slice(0, 100))} is not ${allowed}`))
      return
    }
    const site = request.headers['sec-fetch-site']
    done(site === 'cross-site' ? new GatewayCrossSiteRequestError(request.method, 'Sec-Fetch-Site says it comes from another site') : undefined)
  })
}

export default fp(crossSitePlugin, { name: 'gateway-cross-site', fastify: '5.x' })
