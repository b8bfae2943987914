import createError from '@fastify/error'
import { ingestHttpErrors } from '@pulse/ingest-kit'

/** This service's error catalogue; the kit's error handler shapes every reply. */
export const TwitchErrors = {
  ...ingestHttpErrors('TWITCH', 'Twitch'),
  /** The public top lists could not be fetched and nothing cached is left to serve. */
  ProviderUnavailable: createError('TWITCH_PROVIDER_UNAVAILABLE', 'Twitch is unavailable right now; retry shortly', 503)
}
