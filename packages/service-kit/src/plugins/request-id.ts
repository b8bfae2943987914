import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { REQUEST_ID_HEADER } from '../server-options.js'
import { requestContext } from '../tracing.js'

/** Returns the request id on every response, errors included (the id itself is made by genReqId). */
async function requestIdPlugin (app: FastifyInstance) {
  // Callback style: an async hook costs a promise and a microtask on every response.
  app.addHook('onSend', (request, reply, payload, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id)
    done(null, payload)
  })
  // The handler and all it starts know the request id (the outbox stores it with an event). Entered
  // in preHandler, after the body was read (body events run in the socket's async context).
  app.addHook('preHandler', (request, _reply, done) => {
    requestContext.run({ requestId: request.id }, done)
  })
}

export default fp(requestIdPlugin, { name: 'pulse-request-id', fastify: '5.x' })
