import createError from '@fastify/error'
import { ingestHttpErrors } from '@pulse/ingest-kit'

/** This service's error catalogue; the kit's error handler shapes every reply. */
export const TwitchErrors = {
  ...ingestHttpErrors('TWITCH', 'Twitch'),
  /** The public top lists could not be fetched and nothing cached is left to serve. */
  ProviderUnavailable: createError('TWITCH_PROVIDER_UNAVAILABLE', 'Twitch is unavailable right now; retry shortly', 503),
  /** A look-up (routes/lookups.ts) of something Twitch does not have. */
  LookupNotFound: createError('TWITCH_LOOKUP_NOT_FOUND', 'Twitch has no such %s', 404),
  /** An EventSub message whose signature does not match its id, timestamp and body (docs/providers.md §1.5). */
  WebhookSignature: createError('TWITCH_WEBHOOK_SIGNATURE', 'The Twitch-Eventsub-Message-Signature does not match the message', 403),
  /** An EventSub message older than TWITCH_EVENTSUB_MAX_AGE_S (or from the future): a replay. */
  WebhookStale: createError('TWITCH_WEBHOOK_STALE', 'Twitch-Eventsub-Message-Timestamp is too old or not a time: %s', 403),
  /** An EventSub message id already taken: a replay. */
  WebhookReplayed: createError('TWITCH_WEBHOOK_REPLAYED', 'This Twitch-Eventsub-Message-Id was already received', 403),
  /** An EventSub message without one of the headers Twitch always sends. */
  WebhookHeader: createError('TWITCH_WEBHOOK_HEADER', 'headers/%s is required', 400),
  /** A signed message whose body is not what its type promises. */
  WebhookBody: createError('TWITCH_WEBHOOK_BODY', 'The message body is not valid: %s', 400),
  /** EventSub is not configured on this deployment. */
  WebhookDisabled: createError('TWITCH_WEBHOOK_DISABLED', 'Twitch EventSub is not enabled here', 404),
  /** The message could not be handed on (NATS is down): Twitch will retry it. */
  WebhookUnavailable: createError('TWITCH_WEBHOOK_UNAVAILABLE', 'The message could not be taken now; retry', 503)
}
