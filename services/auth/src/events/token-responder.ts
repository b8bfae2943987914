import { TOKEN_REQUEST_SUBJECTS, TokenReplySchema, TokenRequestSchema, type TokenProvider, type TokenReply, type TokenRequest } from '@pulse/contracts'
import type { FastifyInstance } from 'fastify'
import type { Msg, Subscription } from 'nats'
import { Compile } from 'typebox/compile'
import type { TokenService } from '../tokens/token-service.js'

const requestValidator = Compile(TokenRequestSchema)
const replyValidator = Compile(TokenReplySchema)

/** Every auth replica subscribes in this queue group: each request goes to one of them. */
export const TOKEN_QUEUE_GROUP = 'auth'

/**
 * Answers TOKEN_REQUEST_SUBJECTS on core NATS (request-reply, outside every stream), one subject per
 * provider. Requests and replies are checked against their contracts, and a request is answered
 * only on its own provider's subject: NATS lets each ingest service publish on its provider's
 * subject alone, so a twitch-ingest asking on its subject for an X token gets none. A request that does not match gets an
 * `unavailable` answer that says why (the contract has no other failure for it) and a warning in
 * the log; it is a caller's bug. Nothing here is logged with a token.
 */
export function serveTokenRequests (app: FastifyInstance, tokens: TokenService): void {
  const subscriptions: Subscription[] = []
  const inFlight = new Set<Promise<void>>()

  const answer = async (msg: Msg, subjectProvider: TokenProvider): Promise<void> => {
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
    } else if ((request as TokenRequest).provider !== subjectProvider) {
      app.log.warn({ provider: (request as TokenRequest).provider, subject: msg.subject }, 'token request for another provider than its subject\'s')
      reply = { ok: false, error: 'unavailable', message: `invalid token request: ${subjectProvider} tokens only on this subject` }
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
    for (const provider of Object.keys(TOKEN_REQUEST_SUBJECTS) as TokenProvider[]) {
      subscriptions.push(app.nats.nc.subscribe(app.nats.subject(TOKEN_REQUEST_SUBJECTS[provider]), {
        queue: TOKEN_QUEUE_GROUP,
        callback: (error, msg) => {
          if (error !== null) {
            app.log.warn({ err: error }, 'token request subscription error')
            return
          }
          const work = answer(msg, provider).finally(() => inFlight.delete(work))
          inFlight.add(work)
        }
      }))
    }
    // The subscription is registered at the server before the app says it is ready.
    await app.nats.nc.flush()
  })

  // Stop taking requests, then let those in flight finish while the database is still open.
  app.addHook('preClose', async () => {
    await Promise.all(subscriptions.filter((s) => !s.isClosed()).map(async (s) => { await s.drain().catch(() => {}) }))
    await Promise.allSettled([...inFlight])
  })
}
