import { ProviderTokenRpcV1, type TokenReply, type TokenRequest } from '@pulse/contracts'
import { RequestReplyError, requestReply, type EventBus } from '@pulse/service-kit'
import { NotConnectedError, TokenRevokedError, TokenUnavailableError } from './provider-errors.js'

/** A usable provider token, as auth hands it out (never stored by the ingest services). */
export type ProviderGrant = Extract<TokenReply, { ok: true }>

/**
 * Asks auth for a token over NATS request-reply (core NATS, outside every stream), on the
 * provider's own subject. With
 * `rejectedAccessToken` auth refreshes it (Twitch) or marks the connection invalid (X OAuth 1.0a).
 * Throws NotConnectedError, TokenRevokedError or TokenUnavailableError.
 */
export async function requestProviderToken (bus: EventBus, request: TokenRequest, timeoutMs: number): Promise<ProviderGrant> {
  let reply: TokenReply
  try {
    reply = await requestReply(bus, ProviderTokenRpcV1, request.provider, request, { timeoutMs })
  } catch (error) {
    if (!(error instanceof RequestReplyError)) throw error
    const why = {
      no_responder: 'no auth responder is listening',
      timeout: `auth did not answer within ${timeoutMs} ms`,
      failed: 'the token request failed',
      not_json: 'the reply is not JSON',
      contract: 'the reply does not match its contract'
    }[error.failure]
    throw new TokenUnavailableError(`provider token unavailable: ${why}`, { cause: error })
  }
  if (reply.ok) {
    if (reply.provider !== request.provider) throw new TokenUnavailableError('provider token unavailable: the reply is for another provider')
    return reply
  }
  switch (reply.error) {
    case 'not_connected': throw new NotConnectedError(`no ${request.provider} connection: ${reply.message}`)
    case 'invalid_grant': throw new TokenRevokedError(`the ${request.provider} grant is no longer valid: ${reply.message}`)
    case 'unavailable': throw new TokenUnavailableError(`provider token unavailable: ${reply.message}`)
  }
}
