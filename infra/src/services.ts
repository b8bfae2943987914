/**
 * Every process Pulse deploys, in one list: the Kubernetes folders under infra/k8s/services/ are
 * generated from it (`pnpm --filter @pulse/infra generate`), and the tests check docker-compose.yml,
 * the rendered overlays and the NATS permissions against it and against each service's own
 * configuration schema.
 *
 * Adding a service: one entry here, `pnpm --filter @pulse/infra generate`, its block in
 * docker-compose.yml (the tests name anything missing) and its user in infra/nats/permissions.json
 * if it uses NATS.
 */

export type Provider = 'twitch' | 'twitter'

export interface ServiceSpec {
  /** Kubernetes and Compose name, DNS name inside the cluster, image `pulse-<name>`. */
  readonly name: string
  /** The package's folder: the image's build argument SERVICE. */
  readonly dir: string
  /** The port its configuration defaults to (PORT). */
  readonly port: number
  /**
   * Deployed. A service whose code has not landed yet stays listed with `enabled: false`: its
   * folder is generated, but no overlay renders it (enabling it is this one line).
   */
  readonly enabled: boolean
  /** The one service published outside (its HTTPRoute on the Gateway: the only way in from outside the namespace). */
  readonly public?: true
  /** The provider simulator: the local overlay and Compose's `dev` profile only. */
  readonly simulator?: true
  /**
   * The path that answers while the process runs (the image's HEALTHCHECK, build argument
   * HEALTH_PATH; the liveness and startup probes): `/health` unless set.
   */
  readonly healthPath?: string
  /** The gateway's setting holding this service's URL. */
  readonly upstreamVar?: string
  /** Settings of its own in its ConfigMap, beside the port and NATS ones. */
  settings?: Record<string, string>
  /** The Postgres schema it owns; it then has a migration Job / Compose one-shot. */
  readonly schema?: string
  readonly redis?: true
  readonly nats?: true
  /** The providers whose APIs it calls (HTTPS egress, TWITCH_* / TWITTER_* settings). */
  readonly providers?: readonly Provider[]
  /** Secrets beyond IDENTITY_SECRET, DATABASE_URL and REDIS_URL, by setting name. */
  readonly secrets?: readonly string[]
  readonly resources: { cpu: string, memory: string, memoryLimit: string }
  readonly replicas: { min: number, max: number }
}

export const SERVICES: readonly ServiceSpec[] = [
  {
    name: 'gateway',
    dir: 'services/gateway',
    port: 3000,
    enabled: true,
    public: true,
    redis: true,
    nats: true,
    secrets: ['SESSION_SECRET'],
    resources: { cpu: '250m', memory: '192Mi', memoryLimit: '384Mi' },
    replicas: { min: 2, max: 10 }
  },
  {
    name: 'auth',
    dir: 'services/auth',
    port: 3001,
    enabled: true,
    upstreamVar: 'AUTH_URL',
    schema: 'auth',
    redis: true,
    nats: true,
    providers: ['twitch', 'twitter'],
    // argon2id takes 19 MiB per hash in flight: more memory than the others.
    // SMTP_URL may hold the SMTP server's login.
    secrets: ['SESSION_SECRET', 'TOKEN_ENCRYPTION_KEYS', 'SMTP_URL'],
    resources: { cpu: '250m', memory: '256Mi', memoryLimit: '512Mi' },
    replicas: { min: 2, max: 10 }
  },
  {
    name: 'mood',
    dir: 'services/mood',
    port: 3002,
    enabled: true,
    upstreamVar: 'MOOD_URL',
    schema: 'mood',
    nats: true,
    resources: { cpu: '100m', memory: '128Mi', memoryLimit: '256Mi' },
    replicas: { min: 2, max: 6 }
  },
  {
    name: 'contact',
    dir: 'services/contact',
    port: 3003,
    enabled: true,
    upstreamVar: 'CONTACT_URL',
    schema: 'contact',
    redis: true,
    nats: true,
    resources: { cpu: '100m', memory: '128Mi', memoryLimit: '256Mi' },
    replicas: { min: 2, max: 4 }
  },
  {
    name: 'notify',
    dir: 'services/notify',
    port: 3006,
    enabled: true,
    upstreamVar: 'NOTIFY_URL',
    schema: 'notify',
    nats: true,
    // SMTP_URL may hold the SMTP server's login; NOTIFY_LINK_SECRET signs the unsubscribe links.
    secrets: ['SMTP_URL', 'NOTIFY_LINK_SECRET'],
    resources: { cpu: '100m', memory: '128Mi', memoryLimit: '256Mi' },
    replicas: { min: 2, max: 4 }
  },
  {
    name: 'twitch-ingest',
    dir: 'services/twitch-ingest',
    port: 3004,
    enabled: true,
    upstreamVar: 'TWITCH_INGEST_URL',
    // Where Twitch posts EventSub messages: the gateway's /webhooks/twitch (EventSub stays off until
    // TWITCH_EVENTSUB_ENABLED=true and TWITCH_EVENTSUB_SECRET are set; README, configuration).
    settings: { TWITCH_EVENTSUB_CALLBACK_URL: 'http://gateway:3000/webhooks/twitch' },
    schema: 'twitch_ingest',
    // The cache of the Twitch look-ups (only a cache: the service runs without it).
    redis: true,
    nats: true,
    providers: ['twitch'],
    // The HMAC key of the EventSub subscriptions, one per deployment (docs/providers.md §1.5).
    secrets: ['TWITCH_EVENTSUB_SECRET'],
    resources: { cpu: '100m', memory: '192Mi', memoryLimit: '384Mi' },
    replicas: { min: 2, max: 6 }
  },
  {
    name: 'twitter-ingest',
    dir: 'services/twitter-ingest',
    port: 3005,
    enabled: true,
    upstreamVar: 'TWITTER_INGEST_URL',
    schema: 'twitter_ingest',
    nats: true,
    providers: ['twitter'],
    resources: { cpu: '100m', memory: '192Mi', memoryLimit: '384Mi' },
    replicas: { min: 2, max: 6 }
  },
  {
    name: 'provider-sim',
    dir: 'packages/provider-sim',
    port: 3100,
    enabled: true,
    simulator: true,
    // The simulator answers its health on its control prefix (served with or without SIM_CONTROL).
    healthPath: '/_sim/health',
    resources: { cpu: '100m', memory: '128Mi', memoryLimit: '256Mi' },
    replicas: { min: 1, max: 1 }
  }
]

/** The provider settings (docs/api.md): credentials are secrets, endpoints are configuration. */
export const PROVIDER_SETTINGS: Record<Provider, { secrets: readonly string[], urls: Record<string, string>, simulatorPaths: Record<string, string> }> = {
  twitch: {
    secrets: ['TWITCH_CLIENT_ID', 'TWITCH_CLIENT_SECRET'],
    urls: { TWITCH_AUTH_URL: 'https://id.twitch.tv/oauth2', TWITCH_API_URL: 'https://api.twitch.tv/helix' },
    simulatorPaths: { TWITCH_AUTH_URL: '/oauth2', TWITCH_API_URL: '/helix' }
  },
  twitter: {
    secrets: ['TWITTER_API_KEY', 'TWITTER_API_SECRET'],
    urls: { TWITTER_API_URL: 'https://api.x.com' },
    simulatorPaths: { TWITTER_API_URL: '' }
  }
}

/** Services that run in production (not the simulator) and whose code has landed. */
export const deployedServices = (): ServiceSpec[] => SERVICES.filter((s) => s.enabled && s.simulator === undefined)
export const simulator = (): ServiceSpec => SERVICES.find((s) => s.simulator === true)!
export const imageOf = (s: ServiceSpec): string => `pulse-${s.name}`
export const healthPathOf = (s: ServiceSpec): string => s.healthPath ?? '/health'
/** The key of this service's database URL in the shared Secret (one Postgres role per service). */
export const databaseUrlKey = (s: ServiceSpec): string => `${s.name.toUpperCase().replaceAll('-', '_')}_DATABASE_URL`
/** The key of this service's NATS password in the shared Secret. */
export const natsPasswordKey = (s: ServiceSpec): string => `${s.name.toUpperCase().replaceAll('-', '_')}_NATS_PASSWORD`

/** Kubernetes settings every service gets (ConfigMap `pulse-common`). */
export const COMMON_SETTINGS: Record<string, string> = {
  NODE_ENV: 'production',
  // In a container the service listens on every interface; the default 127.0.0.1 is for a laptop.
  HOST: '0.0.0.0',
  LOG_LEVEL: 'info',
  // The drain on SIGTERM; terminationGracePeriodSeconds leaves room for it and the preStop pause.
  SHUTDOWN_TIMEOUT_MS: '20000'
}
/** The pause before SIGTERM, so that endpoints and the Gateway stop sending new requests first. */
export const PRE_STOP_SLEEP_S = 5
export const TERMINATION_GRACE_PERIOD_S = 35
