import formbody from '@fastify/formbody'
import { STATUS_CODES } from 'node:http'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { controlRoutes, createControl, type SimControl } from './control.js'
import { endpointOf } from './endpoint.js'
import { helix } from './helix.js'
import { simLogger } from './logger.js'
import { SimState, type SimStateOptions } from './state.js'
import { twitchOAuth } from './twitch-oauth.js'
import { xApi } from './x-api.js'
import { xOAuth1 } from './x-oauth1.js'
import { xOAuth2 } from './x-oauth2.js'

export interface BuildSimAppOptions extends SimStateOptions {
  /** Serve the `/_sim` control surface (default false here; the library's startProviderSim turns it on). */
  control?: boolean
  /** true: log with the simulator's redacting pino options; or any Fastify logger option. */
  logger?: boolean | FastifyServerOptions['logger']
}

const CONTROL_PREFIX = '/_sim'
const HEALTH_PATH = '/_sim/health'
const controls = new WeakMap<FastifyInstance, SimControl>()

/** The in-process control of an app made by `buildSimApp`. */
export function simControlOf (app: FastifyInstance): SimControl {
  const control = controls.get(app)
  if (control === undefined) throw new Error('not a provider simulator app')
  return control
}

/**
 * The simulator as a Fastify app, not yet listening. One host serves both providers, laid out as
 * docs/api.md says: Twitch identity under /oauth2, Helix under /helix, X's /oauth, /1.1 and /2 (and
 * /i/oauth2/authorize, which X serves from x.com).
 */
export function buildSimApp (options: BuildSimAppOptions = {}): FastifyInstance {
  const state = new SimState(options)
  const control = createControl(state)
  const logger = options.logger === true ? simLogger() : options.logger ?? false
  const app = Fastify({ logger, routerOptions: { ignoreTrailingSlash: true } }) as unknown as FastifyInstance
  controls.set(app, control)
  app.addHook('onClose', async () => state.eventsub.close())

  app.addHook('onRoute', (route) => {
    if (route.url.startsWith(CONTROL_PREFIX)) return
    for (const method of [route.method].flat()) state.endpoints.add(`${method} ${route.url}`)
  })

  // Every call to a provider endpoint is counted, failed or not; control calls and probes are not.
  // Each is also in flight from its start to its answer (after the latency set for it, if any).
  const inFlight = new WeakSet<object>()
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith(CONTROL_PREFIX) || request.url === HEALTH_PATH) return
    state.calls.record(endpointOf(request))
    inFlight.add(request)
    await state.calls.begin()
  })
  app.addHook('onResponse', async (request) => {
    if (inFlight.delete(request)) state.calls.end()
  })
  app.addHook('onRequestAbort', async (request) => {
    if (inFlight.delete(request)) state.calls.end()
  })
  // For the local stack, Compose and Kubernetes probes; not part of either provider's API, and
  // served even when the control surface is off.
  app.get(HEALTH_PATH, async () => ({ status: 'ok' }))

  // Provider areas shape their own errors; this catches the rest (control surface, unknown paths)
  // and never puts a 5xx's internals in the reply.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    if (status === 500) request.log.error({ err: error }, 'request failed')
    return reply.code(status).send({ statusCode: status, error: STATUS_CODES[status], message: status === 500 ? 'Internal Server Error' : error.message })
  })

  void app.register(formbody)
  // Clients send odd content types to token endpoints; the providers ignore bodies they do not read.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body))

  void app.register(twitchOAuth, { prefix: '/oauth2', state })
  void app.register(helix, { prefix: '/helix', state })
  void app.register(xOAuth1, { state })
  void app.register(xOAuth2, { state })
  void app.register(xApi, { prefix: '/2', state })
  if (options.control === true) void app.register(controlRoutes, { prefix: CONTROL_PREFIX, state, control })
  return app
}
