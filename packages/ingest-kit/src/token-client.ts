import { TOKEN_REQUEST_SUBJECTS, TokenReplySchema, type TokenReply, type TokenRequest } from '@pulse/contracts'
import type { EventBus } from '@pulse/service-kit'
import { Compile } from 'typebox/compile'
import { NotConnectedError, TokenRevokedError, TokenUnavailableError } from './provider-errors.js'

/** A usable provider token, as auth hands it out (never stored by the ingest services). */
export type ProviderGrant = Extract<TokenReply, { ok: true }>

const checkReply = Compile(TokenReplySchema)

/**
 * Asks auth for a token over NATS request-reply (core NATS, outside every stream), on the
 * provider's own subject. With
 * `rejectedAccessToken` auth refreshes it (Twitch) or marks the connection invalid (X OAuth 1.0a).
 * Throws NotConnectedError, TokenRevokedError or TokenUnavailableError.
 */
export async function requestProviderToken (bus: EventBus, request: TokenRequest, timeoutMs: number): Promise<ProviderGrant> {
  let data: Uint8Array
  try {
    const reply = await bus.nc.request(bus.subject(TOKEN_REQUEST_SUBJECTS[request.provider]), Buffer.from(JSON.stringify(request)), { timeout: timeoutMs })
    data = reply.data
  } catch (error) {
    const code = (error as { code?: string }).code
    const why = code === '503' ? 'no auth responder is listening' : code === 'TIMEOUT' ? `auth did not answer within ${timeoutMs} ms` : 'the token request failed'
    throw new TokenUnavailableError(`provider token unavailable: ${why}`, { cause: error })
  }
  let reply: unknown
  try {
    reply = JSON.parse(Buffer.from(data).toString('utf8'))
  } catch (error) {
    throw new TokenUnavailableError('provider token unavailable: the reply is not JSON', { cause: error })
  }
  if (!checkReply.Check(reply)) throw new TokenUnavailableError('provider token unavailable: the reply does not match its contract')
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
