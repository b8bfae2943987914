import { TOKEN_REQUEST_SUBJECT, TokenReplySchema, TokenRequestSchema, type TokenReply, type TokenRequest } from '@pulse/contracts'
import type { FastifyInstance } from 'fastify'
import type { Msg, Subscription } from 'nats'
import { Compile } from 'typebox/compile'
import type { TokenService } from './token-service.js'

const requestValidator = Compile(TokenRequestSchema)
const replyValidator = Compile(TokenReplySchema)

/** Every auth replica subscribes in this queue group: each request goes to one of them. */
export const TOKEN_QUEUE_GROUP = 'auth'

/**
 * Answers TOKEN_REQUEST_SUBJECT on core NATS (request-reply, outside every stream). Requests and
 * replies are checked against their contracts. A request that does not match gets an
 * `unavailable` answer that says why (the contract has no other failure for it) and a warning in
 * the log; it is a caller's bug. Nothing here is logged with a token.
 */
export function serveTokenRequests (app: FastifyInstance, tokens: TokenService): void {
  let subscription: Subscription | undefined
  const inFlight = new Set<Promise<void>>()

  const answer = async (msg: Msg): Promise<void> => {
    let reply: TokenReply
    let request: unknown
    try {
      request = msg.json()
    } catch {
      request = undefined
    }
    if (!requestValidator.Check(request)) {
      const problems = request === undefined ? ['not JSON'] : requestValidator.Errors(request).map((e) => `${e.instancePath || '/'} ${e.message}`)
      app.log.warn({ problems }, 'token request does not match its contract')
      reply = { ok: false, error: 'unavailable', message: `invalid token request: ${problems.join('; ')}` }
    } else {
      try {
        reply = await tokens.handle(request as TokenRequest)
      } catch (error) {
        app.log.error({ err: error, provider: (request as TokenRequest).provider }, 'token request failed')
        reply = { ok: false, error: 'unavailable', message: 'auth failed to answer; try again later' }
      }
    }
    if (!replyValidator.Check(reply)) {
      app.log.error('token reply does not match its contract')
      reply = { ok: false, error: 'unavailable', message: 'auth failed to answer; try again later' }
    }
    if (msg.reply !== undefined && msg.reply !== '') msg.respond(JSON.stringify(reply))
  }

  app.addHook('onReady', async () => {
    subscription = app.nats.nc.subscribe(app.nats.subject(TOKEN_REQUEST_SUBJECT), {
      queue: TOKEN_QUEUE_GROUP,
      callback: (error, msg) => {
        if (error !== null) {
          app.log.warn({ err: error }, 'token request subscription error')
          return
        }
        const work = answer(msg).finally(() => inFlight.delete(work))
        inFlight.add(work)
      }
    })
    // The subscription is registered at the server before the app says it is ready.
    await app.nats.nc.flush()
  })

  // Stop taking requests, then let those in flight finish while the database is still open.
  app.addHook('preClose', async () => {
    if (subscription !== undefined && !subscription.isClosed()) await subscription.drain().catch(() => {})
    await Promise.allSettled([...inFlight])
  })
}
