import type { FastifyRequest } from 'fastify'
import type { FaultStatus } from './faults.js'
import type { SimState } from './state.js'

/** `GET /helix/users`, `GET /2/users/:id/tweets`: the route, not the concrete path. */
export function endpointOf (request: FastifyRequest): string {
  const route = request.routeOptions.url ?? request.url.split('?')[0] ?? request.url
  return `${request.method} ${route}`
}

/** A failure planned for this call through the control surface, if any (used up by asking). */
export function plannedFault (state: SimState, request: FastifyRequest): FaultStatus | undefined {
  return state.faults.take(endpointOf(request))
}
