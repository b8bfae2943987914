import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database, ProviderName } from '../db/database.js'
import { isTwoFactorEnabled } from '../repositories/two-factor.js'
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
  /** Opens the code step of a login (two-factor/two-factor.ts). */
  twoFactor: { startChallenge: (userId: string) => Promise<{ challenge: string }> }
}

/**
 * Where the front end finds the code step of a provider sign-in of an account with two-factor on:
 * in the fragment, which browsers never send to a server (no access log or Referer holds it).
 */
export const TWO_FACTOR_FRAGMENT = 'two-factor'

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
      // A provider sign-in is the first factor only: an account with two-factor on still needs its
      // code, asked by the front end's code step (POST /auth/login/two-factor) before any session.
      if (outcome.kind === 'sign-in' && await isTwoFactorEnabled(deps.db, outcome.user.id)) {
        const { challenge } = await deps.twoFactor.startChallenge(outcome.user.id)
        request.log.info({ provider: input.provider, outcome: 'two-factor' }, 'provider sign-in waits for a two-factor code')
        return reply.redirect(`${frontendRedirect(deps.frontendUrl, input.returnTo)}#${TWO_FACTOR_FRAGMENT}=${challenge}`, 302)
      }
      if (outcome.kind === 'sign-in') await startSession(request, outcome.user)
      request.log.info({ provider: input.provider, outcome: outcome.kind }, 'provider account connected')
      return reply.redirect(frontendRedirect(deps.frontendUrl, input.returnTo), 302)
    }
  }
}

export type ConnectionFlow = ReturnType<typeof connectionFlow>
