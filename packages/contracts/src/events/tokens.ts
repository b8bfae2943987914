import Type, { type Static, type TSchema } from 'typebox'
import { ProviderNameSchema, type ProviderName } from '../provider.js'

/**
 * Provider tokens never leave auth except as the answer to this request-reply call on the internal
 * bus (core NATS, outside every stream: a stream on the subject would answer the request itself).
 * One subject per provider, so the NATS permissions can let each ingest service ask for its own
 * provider's tokens only; auth answers a request only on its provider's subject. Subjects get the
 * bus prefix like any other.
 */
export const TOKEN_REQUEST_SUBJECTS = {
  twitch: 'rpc.auth.provider-token.v1.twitch',
  twitter: 'rpc.auth.provider-token.v1.twitter'
} as const satisfies Record<TokenProvider, string>

export type TokenProvider = ProviderName

export const TokenRequestSchema = Type.Object({
  userId: Type.String(),
  provider: ProviderNameSchema,
  /**
   * The caller got 401 with the token it was given (the token it names here): auth refreshes
   * (Twitch) or marks the connection invalid (X OAuth 1.0a tokens never expire).
   */
  rejectedAccessToken: Type.Optional(Type.String())
}, { additionalProperties: false })
export type TokenRequest = Static<typeof TokenRequestSchema>

export const TokenReplySchema = Type.Union([
  Type.Object({
    ok: Type.Literal(true),
    provider: ProviderNameSchema,
    providerUserId: Type.String(),
    providerLogin: Type.String(),
    accessToken: Type.String(),
    /** OAuth 1.0a token secret (X); absent for Twitch. */
    tokenSecret: Type.Optional(Type.String()),
    /** When the access token expires; null when it does not (X OAuth 1.0a). */
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    scopes: Type.Array(Type.String())
  }),
  Type.Object({
    ok: Type.Literal(false),
    error: Type.Union([
      Type.Literal('not_connected'), // no connection for this user and provider
      Type.Literal('invalid_grant'), // revoked or failed validation: the user must connect again
      Type.Literal('unavailable') // auth could not reach the provider or its database; retry later
    ]),
    message: Type.String()
  })
])
export type TokenReply = Static<typeof TokenReplySchema>

/**
 * A request-reply call on the internal bus: the subjects it is asked on, and what a request and a
 * reply must look like (both sides check them).
 */
export interface RequestReplyContract<Q extends TSchema = TSchema, R extends TSchema = TSchema, K extends string = string> {
  /** For logs and error messages. */
  name: string
  /** The subject per key (here: per provider), before the bus prefix. */
  subjects: Readonly<Record<K, string>>
  request: Q
  reply: R
}

/** A request-reply contract: its name, its subject per key, and the schemas of a request and a reply. */
export function defineRequestReply<Q extends TSchema, R extends TSchema, K extends string> (
  name: string, subjects: Readonly<Record<K, string>>, request: Q, reply: R
): RequestReplyContract<Q, R, K> {
  return { name, subjects, request, reply }
}

/** Auth's provider-token call: an ingest service asks, on its provider's subject, for a usable token. */
export const ProviderTokenRpcV1 = defineRequestReply('auth.provider-token.v1', TOKEN_REQUEST_SUBJECTS, TokenRequestSchema, TokenReplySchema)
