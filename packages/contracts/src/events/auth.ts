import Type from 'typebox'
import { ProviderNameSchema } from '../provider.js'
import { defineEvent, type StreamContract } from './define.js'

/** The provider of a connection event (the same schema as everywhere). */
export const Provider = ProviderNameSchema

export const AUTH_STREAM: StreamContract = { name: 'AUTH', subjects: ['auth.>'] }

/** A user connected a provider account: start tracking it and refresh now. */
export const ConnectionLinkedV1 = defineEvent('auth.connection.linked.v1', Type.Object({
  userId: Type.String(),
  provider: Provider,
  providerUserId: Type.String(),
  providerLogin: Type.String(),
  linkedAt: Type.String({ format: 'date-time' })
}))

/** A user disconnected a provider: stop tracking and delete this user's provider data. */
export const ConnectionUnlinkedV1 = defineEvent('auth.connection.unlinked.v1', Type.Object({
  userId: Type.String(),
  provider: Provider,
  providerUserId: Type.String(),
  unlinkedAt: Type.String({ format: 'date-time' })
}))

/** A stored grant stopped working (revoked at the provider, failed validation). */
export const ConnectionInvalidatedV1 = defineEvent('auth.connection.invalidated.v1', Type.Object({
  userId: Type.String(),
  provider: Provider,
  reason: Type.String(),
  invalidatedAt: Type.String({ format: 'date-time' })
}))

/**
 * A user deleted their account: every service that holds data about the user deletes it (from a
 * durable consumer, idempotently, so a service that was down deletes it when it starts again).
 */
export const UserDeletedV1 = defineEvent('auth.user.deleted.v1', Type.Object({
  userId: Type.String(),
  deletedAt: Type.String({ format: 'date-time' })
}))

/** A data export the user asked for is ready to download until `expiresAt`. */
export const ExportReadyV1 = defineEvent('auth.export.ready.v1', Type.Object({
  userId: Type.String(),
  exportId: Type.String(),
  expiresAt: Type.String({ format: 'date-time' })
}))
