import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database, ProviderName } from '../db/database.js'
import { startSession } from '../sessions.js'
import type { ProviderTokens, TokenStore } from '../tokens/token-store.js'
import { connectAccount, type ProviderAccount } from './connect-account.js'
import { frontendRedirect } from './return-to.js'

/**
 * What the browser is told when a provider flow fails: `?error=<code>` on `returnTo` (or the front
 * end). No session is created and nothing is stored in any of these cases.
 */
export type FlowError =
  | 'invalid_state' // the callback does not belong to an attempt of this browser, was used already, or the logged-in user changed since the start
  | 'twitch_denied' // the user said no at Twitch
  | 'twitter_denied' // the user said no at X
  | 'exchange_failed' // the provider did not give (or confirm) a grant for the code or verifier
  | 'provider_unavailable' // the provider could not be reached to start the flow
  | 'already_linked' // the provider account belongs to another Pulse user
  | 'already_connected' // the logged-in user has another account of this provider connected

export interface ConnectionFlowDeps {
  db: Kysely<Database>
  store: TokenStore
  frontendUrl: string
}

/** The end of every provider callback, one implementation for Twitch and X: sign in or link, then back to the front end. */
export function connectionFlow (app: FastifyInstance, deps: ConnectionFlowDeps) {
  const fail = (reply: FastifyReply, returnTo: string | undefined, error: FlowError) =>
    reply.redirect(frontendRedirect(deps.frontendUrl, returnTo, error), 302)

  return {
    fail,
    /**
     * Signs in (the attempt started with nobody logged in) or links to the user who started it
     * (oauth/attempts.ts checked that this user is still the one logged in). When the account
     * cannot be linked, `onRefused` lets the provider's route drop the grant it just got.
     */
    async complete (request: FastifyRequest, reply: FastifyReply, input: {
      provider: ProviderName
      account: ProviderAccount
      tokens: ProviderTokens
      /** The attempt's user: null for a sign-in. */
      userId: string | null
      returnTo: string | undefined
      onRefused?: () => Promise<void>
    }) {
      const outcome = await connectAccount({ db: deps.db, store: deps.store }, {
        loggedInUserId: input.userId, provider: input.provider, account: input.account, tokens: input.tokens
      })
      if (outcome.kind === 'refused') {
        request.log.info({ provider: input.provider, reason: outcome.error }, 'provider account not linked')
        await input.onRefused?.().catch((error: unknown) => request.log.warn({ provider: input.provider, err: { message: (error as Error).message } }, 'could not drop the refused grant'))
        return fail(reply, input.returnTo, outcome.error)
      }
      app.outbox.wake()
      if (outcome.kind === 'sign-in') await startSession(request, outcome.user)
      request.log.info({ provider: input.provider, outcome: outcome.kind }, 'provider account connected')
      return reply.redirect(frontendRedirect(deps.frontendUrl, input.returnTo), 302)
    }
  }
}

export type ConnectionFlow = ReturnType<typeof connectionFlow>
