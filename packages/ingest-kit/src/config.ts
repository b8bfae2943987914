import { BaseConfigProperties, DatabaseConfigProperties, NatsConfigProperties } from '@pulse/service-kit'
import Type, { type Static, type TObject, type TProperties } from 'typebox'

/**
 * The settings every ingest service has, without the provider's prefix. Each service reads them
 * as `<PREFIX>_<NAME>` (TWITCH_REFRESH_INTERVAL_S, TWITTER_REFRESH_INTERVAL_S…).
 */
function ingestSettings (defaults: IngestSettingDefaults) {
  return {
    /** Every tracked account is refreshed once per interval of this many seconds, at its own slot in it. */
    REFRESH_INTERVAL_S: Type.Integer({ minimum: 60, default: 900 }),
    /** Off only where something else requests refreshes (tests drive the scheduler by hand). */
    SCHEDULER_ENABLED: Type.Boolean({ default: true }),
    /** How often each replica tries a scheduler tick (the one that locks the progress row does it). */
    SCHEDULER_TICK_S: Type.Integer({ minimum: 1, default: 30 }),
    SCHEDULER_PAGE_SIZE: Type.Integer({ minimum: 1, default: 500 }),
    /** POST /<provider>/refresh: at most one per user per this many seconds. */
    MANUAL_REFRESH_MIN_INTERVAL_S: Type.Integer({ minimum: 1, default: 60 }),
    /** How long a refresh waits for auth to hand out a token. */
    TOKEN_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 50, default: 5000 }),
    /** One provider call's time limit. */
    HTTP_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
    /** Tries of one provider call that answers 5xx or fails on the network, within one delivery. */
    HTTP_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
    /** The first pause between those tries; it doubles each time. */
    HTTP_RETRY_BASE_MS: Type.Integer({ minimum: 0, default: 500 }),
    /** A spent rate-limit budget that refills within this long is waited for in place; longer: redelivery. */
    RATE_LIMIT_INLINE_WAIT_MS: Type.Integer({ minimum: 0, default: 2000 }),
    /** The provider's rate-limit window: a reset further off is a clock disagreement. */
    RATE_LIMIT_MAX_WAIT_S: Type.Integer({ minimum: 1, default: defaults.rateLimitWindowS }),
    /** Redelivery after the provider or auth was unavailable: base × 2^(delivery − 1), at most max. */
    REDELIVERY_BASE_MS: Type.Integer({ minimum: 10, default: 5000 }),
    REDELIVERY_MAX_MS: Type.Integer({ minimum: 10, default: 300_000 }),
    /** A request still failing for a transient reason this long after it was made fails for good. */
    REFRESH_GIVE_UP_S: Type.Integer({ minimum: 1, default: 3600 }),
    /** How long one refresh may take before JetStream gives its message to another replica. */
    REFRESH_ACK_WAIT_S: Type.Integer({ minimum: 5, default: 120 }),
    /** Refreshes one replica runs at once (they mostly wait for the provider). */
    REFRESH_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
    LIST_PAGE_SIZE_DEFAULT: Type.Integer({ minimum: 1, default: 20 }),
    LIST_PAGE_SIZE_MAX: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    HISTORY_DEFAULT_DAYS: Type.Integer({ minimum: 1, default: 30 }),
    HISTORY_MAX_DAYS: Type.Integer({ minimum: 1, default: 400 }),
    /** A history longer than this many points is thinned to the last snapshot of equal buckets. */
    HISTORY_MAX_POINTS: Type.Integer({ minimum: 2, default: 500 }),
    /** Raw snapshots (one per refresh) are kept at least this many days; older, only the roll-ups. */
    SNAPSHOT_RAW_DAYS: Type.Integer({ minimum: 2, default: 30 }),
    /** Hourly roll-ups (the last snapshot of each hour) are kept this many days; daily ones for good. */
    SNAPSHOT_HOURLY_DAYS: Type.Integer({ minimum: 2, default: 90 }),
    /** How often each replica tries the retention job (roll-ups, partitions); one at a time runs it. */
    RETENTION_INTERVAL_S: Type.Integer({ minimum: 1, default: 600 }),
    /** Off only where something else runs the retention job (tests run it by hand). */
    RETENTION_ENABLED: Type.Boolean({ default: true }),
    /** Processed-request ids and unlink markers are kept this long (the streams keep messages 7 days). */
    BOOKKEEPING_RETENTION_DAYS: Type.Integer({ minimum: 7, default: 8 })
  } satisfies TProperties
}

export interface IngestSettingDefaults {
  /** The service's port. */
  port: number
  /** The provider's rate-limit window in seconds (Helix: 60, X: 900). */
  rateLimitWindowS: number
}

type IngestSettings = ReturnType<typeof ingestSettings>
type Prefixed<P extends string, T> = { [K in keyof T & string as `${P}_${K}`]: T[K] }

/** What an ingest service's settings hold besides its own: the kit's, under the service's prefix. */
export type IngestConfigProperties<P extends string> = CommonProperties & Prefixed<P, IngestSettings>
type CommonProperties = typeof BaseConfigProperties & typeof DatabaseConfigProperties & typeof NatsConfigProperties &
  { PORT: ReturnType<typeof Type.Integer>, OUTBOX_POLL_INTERVAL_MS: ReturnType<typeof Type.Integer> }
/** A loaded configuration of an ingest service (the kit's part of it). */
export type IngestConfig<P extends string> = Static<TObject<CommonProperties>> & Prefixed<P, IngestSettingValues>

/** The settings of an ingest service, `prefix` naming its own (TWITCH, TWITTER); it adds its provider's. */
export function ingestConfigProperties<P extends string> (prefix: P, defaults: IngestSettingDefaults): IngestConfigProperties<P> {
  const prefixed = Object.fromEntries(Object.entries(ingestSettings(defaults)).map(([name, schema]) => [`${prefix}_${name}`, schema])) as Prefixed<P, IngestSettings>
  return {
    ...BaseConfigProperties,
    ...DatabaseConfigProperties,
    ...NatsConfigProperties,
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: defaults.port }),
    ...prefixed,
    OUTBOX_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, default: 1000 })
  }
}

/** The kit's settings of a loaded configuration, without the prefix. */
export type IngestSettingValues = Static<TObject<IngestSettings>>

export function ingestSettingsOf<P extends string> (prefix: P, config: IngestConfig<P>): IngestSettingValues {
  const values = config as unknown as Record<string, unknown>
  return Object.fromEntries(Object.keys(ingestSettings({ port: 0, rateLimitWindowS: 1 })).map((name) => [name, values[`${prefix}_${name}`]])) as IngestSettingValues
}

/**
 * The checks of one setting against another that every ingest service makes, and in production the
 * provider app's credentials that must not keep the provider simulator's development values
 * (`simulatorCredentials`: each setting, the simulator's value, and what to set instead).
 */
export function checkIngestConfig<P extends string> (prefix: P, config: IngestConfig<P>, simulatorCredentials: Record<string, [simulatorValue: string, instead: string]> = {}): string[] {
  const settings = ingestSettingsOf(prefix, config)
  const problems: string[] = []
  if (settings.LIST_PAGE_SIZE_DEFAULT > settings.LIST_PAGE_SIZE_MAX) {
    problems.push(`${prefix}_LIST_PAGE_SIZE_DEFAULT (${settings.LIST_PAGE_SIZE_DEFAULT}) must not exceed ${prefix}_LIST_PAGE_SIZE_MAX (${settings.LIST_PAGE_SIZE_MAX})`)
  }
  if (settings.HISTORY_DEFAULT_DAYS > settings.HISTORY_MAX_DAYS) {
    problems.push(`${prefix}_HISTORY_DEFAULT_DAYS (${settings.HISTORY_DEFAULT_DAYS}) must not exceed ${prefix}_HISTORY_MAX_DAYS (${settings.HISTORY_MAX_DAYS})`)
  }
  if (settings.SNAPSHOT_HOURLY_DAYS < settings.SNAPSHOT_RAW_DAYS) {
    problems.push(`${prefix}_SNAPSHOT_HOURLY_DAYS (${settings.SNAPSHOT_HOURLY_DAYS}) must not be less than ${prefix}_SNAPSHOT_RAW_DAYS (${settings.SNAPSHOT_RAW_DAYS})`)
  }
  if (config.NODE_ENV === 'production') {
    const values = config as unknown as Record<string, unknown>
    for (const [name, [simulatorValue, instead]] of Object.entries(simulatorCredentials)) {
      if (values[name] === simulatorValue) problems.push(`${name} still has the simulator's value; set ${instead} in production`)
    }
  }
  return problems
}
