import createError from '@fastify/error'

/**
 * The errors the kit's routes helpers raise, with the service's prefix (TWITCH_…, TWITTER_…). Make
 * them once per service, in its error catalogue.
 */
export function ingestHttpErrors (prefix: string, providerName: string) {
  return {
    NotConnected: createError(`${prefix}_NOT_CONNECTED`, `No ${providerName} account is connected; connect one first`, 409),
    RefreshTooSoon: createError<[number]>(`${prefix}_REFRESH_TOO_SOON`, 'A refresh was requested moments ago; retry in %s seconds', 429),
    Validation: createError<[string]>(`${prefix}_VALIDATION`, '%s', 400)
  }
}

export type IngestHttpErrors = ReturnType<typeof ingestHttpErrors>
