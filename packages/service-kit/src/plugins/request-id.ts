import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { REQUEST_ID_HEADER } from '../server-options.js'

/** Returns the request id on every response, errors included (the id itself is made by genReqId). */
async function requestIdPlugin (app: FastifyInstance) {
  app.addHook('onSend', async (request, reply) => {
    void reply.header(REQUEST_ID_HEADER, request.id)
  })
}

export default fp(requestIdPlugin, { name: 'pulse-request-id', fastify: '5.x' })
