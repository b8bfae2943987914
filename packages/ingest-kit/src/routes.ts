import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ErrorResponseSchema, MetricsRangeQueryProperties, MetricsRefreshAcceptedSchema } from '@pulse/contracts'
import { requireIdentity } from '@pulse/service-kit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TLiteral, TObject, TSchema, TUnion } from 'typebox'
import type { Clock } from './clock.js'
import type { IngestDb, TrackedAccount } from './db.js'
import type { IngestHttpErrors } from './http-errors.js'
import { historyRange } from './read.js'
import { readHistory } from './repositories.js'
import { historySources, type RetentionSettings } from './retention.js'

/**
 * The query of `GET /<name>/history` as every ingest service's contract spells it: one of the
 * service's metrics and the range (`TwitchHistoryQuerySchema`, `TwitterHistoryQuerySchema`).
 */
export type HistoryQuerySchema = TObject<{
  metric: TUnion<Array<TLiteral<string>>>
  from: typeof MetricsRangeQueryProperties.from
  to: typeof MetricsRangeQueryProperties.to
}>

export interface ProviderRoutesOptions {
  /** `twitch`: the path prefix (`/twitch/...`) and the API reference's tag. */
  name: string
  /** `Twitch`, `X`: as the API reference names the provider. */
  label: string
  /** The service's error code prefix (`TWITCH`) and its errors. */
  codePrefix: string
  errors: IngestHttpErrors
  /** Each history metric and the snapshot column that holds it. */
  metricColumns: Record<string, string>
  historyQuerySchema: HistoryQuerySchema
  historySchema: TSchema
  now: Clock
  historyDefaultDays: number
  historyMaxDays: number
  historyMaxPoints: number
  /** Where raw snapshots and hourly roll-ups are kept (days back from now). */
  retention: RetentionSettings
}

/**
 * What every ingest service's routes share: the error responses of the API reference, the 400 of a
 * bad field, the caller's tracked account (or 409), and the two routes that are the same for every
 * provider: `GET /<name>/history` and `POST /<name>/refresh`. The service adds its overview and lists.
 */
export function providerRoutes (fastify: FastifyInstance, options: ProviderRoutesOptions) {
  // Every route's request and reply types come from its schema.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { name, label, errors } = options
  const meanings: Record<number, string> = {
    400: 'Invalid input; the message names the field',
    401: 'Not logged in',
    409: `No ${label} account is connected (code ${options.codePrefix}_NOT_CONNECTED)`,
    429: 'A refresh was requested less than a minute ago; retry after `retry-after` seconds',
    500: 'Something went wrong on our side',
    503: 'Storage is unavailable; retry after `retry-after` seconds'
  }
  /** The error responses of a route, for the API reference. */
  const errorResponses = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, { ...ErrorResponseSchema, description: meanings[code] }]))
  const invalid = (message: string) => new errors.Validation(message)
  /** The caller's tracked account, or 409 <PREFIX>_NOT_CONNECTED. */
  const connected = async (request: FastifyRequest): Promise<TrackedAccount> => {
    const account = await app.ingest.trackedAccount(requireIdentity(request).userId)
    if (account === undefined) throw new errors.NotConnected()
    return account
  }

  app.get(`/${name}/history`, {
    schema: {
      summary: `${label} history of one number`,
      description: 'One value per snapshot in [from, to], oldest first (default: the last 30 days). ' +
        'A long range is thinned to the last snapshot of equal buckets, so it stays a bounded number of points; ' +
        'beyond the raw window (and for long ranges) the points are the last snapshots of hours or days.',
      tags: [name],
      querystring: options.historyQuerySchema,
      response: { 200: { ...options.historySchema, description: 'The points of the metric' }, ...errorResponses(400, 401, 409, 500, 503) }
    }
  }, async (request) => {
    const account = await connected(request)
    const { metric } = request.query
    const range = historyRange(request.query, options.now(), { defaultDays: options.historyDefaultDays, maxDays: options.historyMaxDays }, invalid)
    const points = await readHistory(app.db as IngestDb, account.user_id, options.metricColumns[metric]!, range.from, range.to, options.historyMaxPoints, historySources(options.now(), options.retention))
    return { metric, from: range.from.toISOString(), to: range.to.toISOString(), points: points.map((p) => ({ t: p.t.toISOString(), value: p.value })) }
  })

  app.post(`/${name}/refresh`, {
    schema: {
      summary: `Refresh the ${label} numbers now`,
      description: 'Requests a refresh; a metrics.refreshed (or metrics.refresh.failed) live update follows. At most one per user per minute.',
      tags: [name],
      response: { 202: { ...MetricsRefreshAcceptedSchema, description: 'The refresh is requested' }, ...errorResponses(401, 409, 429, 500, 503) }
    }
  }, async (request, reply) => {
    const { userId } = requireIdentity(request)
    const claim = await app.ingest.requestManualRefresh(userId)
    if (claim.outcome === 'not_connected') throw new errors.NotConnected()
    if (claim.outcome === 'too_soon') {
      const seconds = Math.ceil(claim.retryAfterMs / 1000)
      void reply.header('retry-after', String(seconds))
      throw new errors.RefreshTooSoon(seconds)
    }
    return reply.code(202).send({ requestedAt: claim.requestedAt.toISOString() })
  })

  return { errorResponses, invalid, connected }
}
