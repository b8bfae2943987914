import {
  COMMON_SETTINGS, PRE_STOP_SLEEP_S, PROVIDER_SETTINGS, SERVICES, TERMINATION_GRACE_PERIOD_S,
  databaseUrlKey, healthPathOf, imageOf, natsPasswordKey, type ServiceSpec
} from './services.js'

/**
 * The Kubernetes objects of one service, generated from its entry in SERVICES: what is the same
 * for every service is written once here, so a new service is one entry in the list.
 */

type Obj = Record<string, unknown>

export const PART_OF = { 'app.kubernetes.io/part-of': 'pulse' }
/** The Secret every overlay generates (secretGenerator); pods take only the keys they need. */
export const SECRET_NAME = 'pulse-secrets'
export const COMMON_CONFIG_NAME = 'pulse-common'
export const NATS_URL = 'nats://nats:4222'
/**
 * The entry from outside: a Gateway API `Gateway` (infra/k8s/gateway/) that the gateway's HTTPRoute
 * attaches to. Its proxies run in its namespace, the only source of traffic from outside.
 */
export const ENTRY_GATEWAY = { name: 'pulse', namespace: 'gateway-system' } as const

/** Labels on a service's pods that the dependency NetworkPolicies select on. */
export function dependencyLabels (s: ServiceSpec): Record<string, string> {
  const labels: Record<string, string> = {}
  if (s.schema !== undefined) labels['pulse.dev/postgres'] = 'true'
  if (s.redis === true) labels['pulse.dev/redis'] = 'true'
  if (s.nats === true) labels['pulse.dev/nats'] = 'true'
  if (s.providers !== undefined) labels['pulse.dev/providers'] = 'true'
  if (s.upstreamVar !== undefined) labels['pulse.dev/gateway-upstream'] = 'true'
  return labels
}

const selectorOf = (s: ServiceSpec) => ({ 'app.kubernetes.io/name': s.name })

function secretEnv (name: string, key = name) {
  return { name, valueFrom: { secretKeyRef: { name: SECRET_NAME, key } } }
}

/** Settings that differ between services and carry no secret (ConfigMap `<name>-config`). */
export function serviceSettings (s: ServiceSpec): Record<string, string> {
  const settings: Record<string, string> = { PORT: String(s.port) }
  // The simulator does not read pulse-common: it gets the one common setting it needs here.
  if (s.simulator === true) settings.HOST = COMMON_SETTINGS.HOST!
  if (s.public === true) {
    for (const u of SERVICES) if (u.upstreamVar !== undefined) settings[u.upstreamVar] = `http://${u.name}:${u.port}`
    // The Gateway's proxies: the only hop whose X-Forwarded-For is believed. The overlays set their
    // addresses (production: the proxies' own, never a whole private range).
    settings.TRUST_PROXY = ''
  }
  if (s.nats === true) {
    settings.NATS_URL = NATS_URL
    settings.NATS_USER = s.name
  }
  return { ...settings, ...s.settings }
}

/** Secrets a service's pods get, as env var name → key in the Secret. */
export function serviceSecrets (s: ServiceSpec): Record<string, string> {
  const keys: Record<string, string> = {}
  if (s.simulator === true) return keys
  keys.IDENTITY_SECRET = 'IDENTITY_SECRET'
  if (s.schema !== undefined) keys.DATABASE_URL = databaseUrlKey(s)
  if (s.redis === true) keys.REDIS_URL = 'REDIS_URL'
  if (s.nats === true) keys.NATS_PASSWORD = natsPasswordKey(s)
  for (const p of s.providers ?? []) for (const k of PROVIDER_SETTINGS[p].secrets) keys[k] = k
  for (const k of s.secrets ?? []) keys[k] = k
  return keys
}

const securityContext = {
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 1000,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' }
}

function container (s: ServiceSpec, command: string[] | undefined, env: Obj[], envFrom: Obj[]) {
  return {
    name: s.name,
    image: imageOf(s),
    ...(command === undefined ? {} : { command }),
    envFrom,
    env,
    securityContext,
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }]
  }
}

const podSecurity = { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } }

export function deployment (s: ServiceSpec): Obj {
  const labels = { ...selectorOf(s), 'app.kubernetes.io/component': s.simulator === true ? 'simulator' : 'service' }
  const env = Object.entries(serviceSecrets(s)).map(([name, key]) => secretEnv(name, key))
  const envFrom = [
    ...(s.simulator === true ? [] : [{ configMapRef: { name: COMMON_CONFIG_NAME } }]),
    { configMapRef: { name: `${s.name}-config` } }
  ]
  const probe = (path: string, extra: Obj) => ({ httpGet: { path, port: 'http' }, timeoutSeconds: 2, ...extra })
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: s.name, labels },
    spec: {
      // No replicas: the HorizontalPodAutoscaler owns the count (an applied number would fight it).
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorOf(s) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: { ...labels, ...dependencyLabels(s) } },
        spec: {
          automountServiceAccountToken: false,
          // No <SERVICE>_PORT / _HOST variables injected for every Service of the namespace.
          enableServiceLinks: false,
          terminationGracePeriodSeconds: TERMINATION_GRACE_PERIOD_S,
          securityContext: podSecurity,
          topologySpreadConstraints: [{
            maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selectorOf(s) }
          }],
          containers: [{
            ...container(s, undefined, env, envFrom),
            ports: [{ name: 'http', containerPort: s.port, protocol: 'TCP' }],
            resources: { requests: { cpu: s.resources.cpu, memory: s.resources.memory }, limits: { memory: s.resources.memoryLimit } },
            ...(s.simulator === true
              // The simulator has no dependencies to be ready for: its health is its readiness.
              ? { readinessProbe: probe(healthPathOf(s), { periodSeconds: 5 }), livenessProbe: probe(healthPathOf(s), { periodSeconds: 10 }) }
              : {
                  startupProbe: probe(healthPathOf(s), { periodSeconds: 2, failureThreshold: 30 }),
                  livenessProbe: probe(healthPathOf(s), { periodSeconds: 10, failureThreshold: 3 }),
                  readinessProbe: probe('/ready', { periodSeconds: 5, failureThreshold: 2 })
                }),
            // Endpoints and the Gateway take a moment to stop routing to a terminating pod: wait
            // before SIGTERM starts the drain (SHUTDOWN_TIMEOUT_MS).
            lifecycle: { preStop: { exec: { command: ['sleep', String(PRE_STOP_SLEEP_S)] } } }
          }],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }]
        }
      }
    }
  }
}

export function migrationJob (s: ServiceSpec): Obj {
  const labels = { 'app.kubernetes.io/name': `${s.name}-migrate`, 'app.kubernetes.io/component': 'migration', 'pulse.dev/migrates': s.name }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${s.name}-migrate`, labels },
    spec: {
      backoffLimit: 4,
      activeDeadlineSeconds: 600,
      // A Job's pod template cannot change: a finished one goes away, so the next release's apply
      // creates it anew (README, "Deploying").
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels: { ...labels, 'pulse.dev/postgres': 'true' } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurity,
          containers: [{
            ...container(s, ['node', 'dist/db/migrate.js'], [secretEnv('DATABASE_URL', databaseUrlKey(s))], [{ configMapRef: { name: COMMON_CONFIG_NAME } }]),
            resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } }
          }],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '16Mi' } }]
        }
      }
    }
  }
}

export function service (s: ServiceSpec): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, labels: selectorOf(s) },
    spec: { type: 'ClusterIP', selector: selectorOf(s), ports: [{ name: 'http', port: s.port, targetPort: 'http', protocol: 'TCP' }] }
  }
}

export function autoscaler (s: ServiceSpec): Obj {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: s.name, labels: selectorOf(s) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: s.name },
      minReplicas: s.replicas.min,
      maxReplicas: s.replicas.max,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 300 } }
    }
  }
}

export function disruptionBudget (s: ServiceSpec): Obj {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: s.name, labels: selectorOf(s) },
    // maxUnavailable rather than minAvailable: a single replica (the local overlay) can still be
    // drained, and with more replicas a drain takes them one at a time.
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorOf(s) } }
  }
}

/** Who may connect to this service; and, for the gateway, which services it may reach. */
export function networkPolicies (s: ServiceSpec): Obj[] {
  const from = s.public === true
    ? [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ENTRY_GATEWAY.namespace } } }]
    : s.simulator === true
      ? [{ podSelector: { matchLabels: { 'pulse.dev/providers': 'true' } } }]
      : [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'gateway' } } }]
  const policies: Obj[] = [{
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `${s.name}-ingress` },
    spec: {
      podSelector: { matchLabels: selectorOf(s) },
      policyTypes: ['Ingress'],
      ingress: [{ from, ports: [{ protocol: 'TCP', port: s.port }] }]
    }
  }]
  if (s.public === true) {
    policies.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `${s.name}-to-upstreams` },
      spec: {
        podSelector: { matchLabels: selectorOf(s) },
        policyTypes: ['Egress'],
        egress: [{
          to: [{ podSelector: { matchLabels: { 'pulse.dev/gateway-upstream': 'true' } } }],
          ports: SERVICES.filter((u) => u.upstreamVar !== undefined).map((u) => ({ protocol: 'TCP', port: u.port }))
        }]
      }
    })
  }
  return policies
}

export function kustomization (s: ServiceSpec): Obj {
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    labels: [{ pairs: PART_OF, includeSelectors: false }],
    resources: ['deployment.yaml', 'service.yaml', 'autoscaler.yaml', 'disruption-budget.yaml', 'network-policy.yaml', ...(s.schema === undefined ? [] : ['migration-job.yaml'])],
    configMapGenerator: [{ name: `${s.name}-config`, literals: Object.entries(serviceSettings(s)).map(([k, v]) => `${k}=${v}`) }]
  }
}

/** The files of infra/k8s/services/<name>/, as path → YAML documents. */
export function serviceFiles (s: ServiceSpec): Record<string, Obj[]> {
  const files: Record<string, Obj[]> = {
    'kustomization.yaml': [kustomization(s)],
    'deployment.yaml': [deployment(s)],
    'service.yaml': [service(s)],
    'autoscaler.yaml': [autoscaler(s)],
    'disruption-budget.yaml': [disruptionBudget(s)],
    'network-policy.yaml': networkPolicies(s)
  }
  if (s.schema !== undefined) files['migration-job.yaml'] = [migrationJob(s)]
  return files
}

/** The base's kustomization: the shared objects and every enabled service that is not the simulator. */
export function baseKustomization (): Obj {
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: 'pulse',
    labels: [{ pairs: PART_OF, includeSelectors: false }],
    resources: [
      'namespace.yaml',
      'network-policies.yaml',
      'http-route.yaml',
      'nats',
      ...SERVICES.filter((s) => s.simulator === undefined).map((s) => s.enabled ? `../services/${s.name}` : null).filter((r): r is string => r !== null)
    ],
    configMapGenerator: [{ name: COMMON_CONFIG_NAME, literals: Object.entries(commonSettings()).map(([k, v]) => `${k}=${v}`) }]
  }
}

/**
 * ConfigMap `pulse-common`: what every service may read. The public URLs and the provider endpoints
 * are here (not per service) so that an overlay sets each of them once.
 */
export function commonSettings (): Record<string, string> {
  return {
    ...COMMON_SETTINGS,
    PUBLIC_URL: 'https://pulse.example.com',
    FRONTEND_URL: 'https://pulse.example.com',
    // The sender of every mail (auth's address checks and password resets); an overlay sets its own.
    MAIL_FROM: 'Pulse <no-reply@pulse.example.com>',
    ...providerUrls()
  }
}

/** Every provider endpoint setting with its real default (the local overlay points them at the simulator). */
export function providerUrls (): Record<string, string> {
  return Object.assign({}, ...Object.values(PROVIDER_SETTINGS).map((p) => p.urls)) as Record<string, string>
}

/** NATS with JetStream: one server, file storage on a PersistentVolumeClaim, passwords from the Secret. */
export function natsStatefulSet (users: readonly string[], passwordVariable: (user: string) => string): Obj {
  const labels = { 'app.kubernetes.io/name': 'nats', 'app.kubernetes.io/component': 'event-bus' }
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'nats', labels },
    spec: {
      serviceName: 'nats',
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'nats' } },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          // nats-server drains client connections and flushes JetStream on SIGTERM.
          terminationGracePeriodSeconds: 60,
          securityContext: podSecurity,
          containers: [{
            name: 'nats',
            image: 'nats:2.11-alpine',
            args: ['--config', '/etc/nats/nats.conf', '--server_name', '$(POD_NAME)'],
            env: [
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              ...users.map((u) => secretEnv(passwordVariable(u)))
            ],
            ports: [
              { name: 'client', containerPort: 4222, protocol: 'TCP' },
              { name: 'monitor', containerPort: 8222, protocol: 'TCP' }
            ],
            resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
            securityContext,
            startupProbe: { httpGet: { path: '/healthz', port: 'monitor' }, periodSeconds: 2, failureThreshold: 60 },
            livenessProbe: { httpGet: { path: '/healthz?js-enabled-only=true', port: 'monitor' }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
            readinessProbe: { httpGet: { path: '/healthz', port: 'monitor' }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
            volumeMounts: [
              { name: 'config', mountPath: '/etc/nats', readOnly: true },
              { name: 'data', mountPath: '/data' }
            ]
          }],
          volumes: [{ name: 'config', configMap: { name: 'nats-config' } }]
        }
      },
      volumeClaimTemplates: [{
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } }
      }]
    }
  }
}
