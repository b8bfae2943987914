import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { REQUEST_ID_HEADER } from '../server-options.js'

/** Returns the request id on every response, errors included (the id itself is made by genReqId). */
async function requestIdPlugin (app: FastifyInstance) {
  // Callback style: an async hook costs a promise and a microtask on every response.
  app.addHook('onSend', (request, reply, payload, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id)
    done(null, payload)
  })
}

export default fp(requestIdPlugin, { name: 'pulse-request-id', fastify: '5.x' })
