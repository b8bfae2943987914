import { fileURLToPath } from 'node:url'
import Type from 'typebox'
import { BaseConfigProperties, NatsConfigProperties, RedisConfigProperties, SessionConfigProperties, loadConfig } from '@pulse/service-kit'

const Upstream = (port: number) => Type.String({ default: `http://127.0.0.1:${port}`, 'x-url-protocols': ['http', 'https'] })

export const GatewayConfigProperties = {
  ...BaseConfigProperties,
  ...RedisConfigProperties,
  ...NatsConfigProperties,
  ...SessionConfigProperties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  /** The one origin allowed by CORS (with credentials): the dashboard, which the gateway itself serves. */
  FRONTEND_URL: Type.String({ default: 'http://127.0.0.1:3000', 'x-url-protocols': ['http', 'https'] }),
  AUTH_URL: Upstream(3001),
  MOOD_URL: Upstream(3002),
  CONTACT_URL: Upstream(3003),
  NOTIFY_URL: Upstream(3006),
  TWITCH_INGEST_URL: Upstream(3004),
  TWITTER_INGEST_URL: Upstream(3005),
  /**
   * Addresses (or CIDR ranges) of our own reverse proxies / load balancers in front of the gateway,
   * comma-separated. Only their X-Forwarded-For is believed; empty: the socket address is the client.
   */
  TRUST_PROXY: Type.String({ default: '' }),
  /** Requests per window from one address (anonymous callers). */
  RATE_LIMIT_PER_ADDRESS: Type.Integer({ minimum: 1, default: 300 }),
  /**
   * Requests per window from one address to the provider webhooks (`/webhooks/…`), a budget of their
   * own: Twitch delivers every notification of every channel from a few addresses, which the
   * anonymous budget would throttle; each delivery is signed and checked by the service behind.
   */
  RATE_LIMIT_WEBHOOKS_PER_ADDRESS: Type.Integer({ minimum: 1, default: 6000 }),
  /** Requests per window for one logged-in user. */
  RATE_LIMIT_PER_USER: Type.Integer({ minimum: 1, default: 600 }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 100, default: 60_000 }),
  /** How often each gateway adds its request counts to the shared ones in Redis. */
  RATE_LIMIT_SYNC_MS: Type.Integer({ minimum: 10, default: 100 }),
  /** An upstream that has not answered in this time gets a 504. */
  UPSTREAM_TIMEOUT_MS: Type.Integer({ minimum: 50, default: 10_000 }),
  /** How long a resolved session is reused without asking Redis (revocations evict it at once). */
  SESSION_CACHE_MS: Type.Integer({ minimum: 0, default: 2_000 }),
  /** Lifetime of the identity assertion forwarded to services. */
  IDENTITY_TTL_S: Type.Integer({ minimum: 5, maximum: 300, default: 30 }),
  /** How far back /events replays to a client reconnecting with Last-Event-ID. */
  EVENTS_REPLAY_WINDOW_S: Type.Integer({ minimum: 1, default: 600 }),
  /** Events kept per user for that replay. */
  EVENTS_PER_USER: Type.Integer({ minimum: 1, default: 100 }),
  /** A comment line on idle /events connections, so proxies keep them open. */
  EVENTS_HEARTBEAT_MS: Type.Integer({ minimum: 100, default: 15_000 }),
  /** Open /events connections per user on one gateway; a new one beyond it closes the oldest. */
  EVENTS_MAX_STREAMS_PER_USER: Type.Integer({ minimum: 1, default: 5 }),
  /**
   * How often the sessions of open /events connections are checked for expiry (logouts and
   * revocations end them at once; an open stream does not count as use of the session).
   */
  EVENTS_SESSION_CHECK_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  /** Bytes a slow /events reader may leave unread in the gateway before its connection is dropped. */
  EVENTS_MAX_BUFFER_BYTES: Type.Integer({ minimum: 1024, default: 65_536 }),
  /** How long the assembled OpenAPI document is reused. */
  DOCS_CACHE_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  /** The dashboard's build, served at / (the same path from src/ and dist/). */
  DASHBOARD_DIR: Type.String({ default: fileURLToPath(new URL('../../../packages/dashboard/dist', import.meta.url)) })
}

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>

export function loadGatewayConfig (env: Record<string, string | undefined> = process.env) {
  return loadConfig(GatewayConfigProperties, env, { secrets: ['IDENTITY_SECRET', 'SESSION_SECRET'] })
}

/** Fastify's trustProxy from TRUST_PROXY: false when empty (never `true`: that trusts anyone). */
export function trustProxyOf (config: GatewayConfig): false | string[] {
  const list = config.TRUST_PROXY.split(',').map((s) => s.trim()).filter((s) => s !== '')
  return list.length === 0 ? false : list
}
