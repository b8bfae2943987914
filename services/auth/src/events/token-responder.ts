import { ProviderTokenRpcV1, type TokenReply } from '@pulse/contracts'
import { answerRequests, type Responder } from '@pulse/service-kit'
import type { FastifyInstance } from 'fastify'
import type { TokenService } from '../tokens/token-service.js'

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
  let responder: Responder | undefined

  app.addHook('onReady', async () => {
    responder = await answerRequests(app.nats, ProviderTokenRpcV1, {
      queue: TOKEN_QUEUE_GROUP,
      handle: async (request, subjectProvider): Promise<TokenReply> => {
        if (request.provider !== subjectProvider) {
          app.log.warn({ provider: request.provider, subject: ProviderTokenRpcV1.subjects[subjectProvider] }, 'token request for another provider than its subject\'s')
          return { ok: false, error: 'unavailable', message: `invalid token request: ${subjectProvider} tokens only on this subject` }
        }
        return await tokens.handle(request)
      },
      refuse: (why): TokenReply => {
        if ('problems' in why) {
          app.log.warn({ problems: why.problems }, 'token request does not match its contract')
          return { ok: false, error: 'unavailable', message: `invalid token request: ${why.problems.join('; ')}` }
        }
        app.log.error({ err: why.error }, 'token request failed')
        return { ok: false, error: 'unavailable', message: 'auth failed to answer; try again later' }
      }
    })
  })

  // Stop taking requests, then let those in flight finish while the database is still open.
  app.addHook('preClose', async () => { await responder?.close() })
}
