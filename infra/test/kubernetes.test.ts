import { isIP } from 'node:net'
import t from 'tap'
import { COMMON_SETTINGS, PRE_STOP_SLEEP_S, SERVICES, deployedServices, imageOf, natsPasswordKey, type ServiceSpec } from '../src/services.js'
import { ENTRY_GATEWAY } from '../src/k8s.js'
import { configSettings, isSecretSetting, readRepoFile, renderKustomization, renderOverlay, settingsToWire, type K8s } from './helper.js'

const overlays = { local: renderOverlay('local'), production: renderOverlay('production') }

const find = (objs: K8s[], kind: string, name: string): K8s | undefined =>
  objs.find((o) => o.kind === kind && o.metadata.name === name)
const workloads = (objs: K8s[]) => objs.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
const inOverlay = (overlay: keyof typeof overlays) => SERVICES.filter((s) => s.enabled && (s.simulator === undefined || overlay === 'local'))

/** The environment a container gets: name → where it comes from and, for ConfigMaps, its value. */
function environmentOf (objs: K8s[], container: K8s): Map<string, { source: 'configmap' | 'secret' | 'value', value?: string }> {
  const env = new Map<string, { source: 'configmap' | 'secret' | 'value', value?: string }>()
  for (const from of container.envFrom ?? []) {
    const cm = find(objs, 'ConfigMap', from.configMapRef?.name)
    if (cm === undefined) throw new Error(`envFrom names ConfigMap ${from.configMapRef?.name}, which is not rendered`)
    for (const [k, v] of Object.entries(cm.data ?? {})) env.set(k, { source: 'configmap', value: String(v) })
  }
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef
    if (ref !== undefined) {
      const secret = find(objs, 'Secret', ref.name)
      if (secret === undefined || !(ref.key in (secret.data ?? {}))) throw new Error(`${e.name} reads key ${ref.key} of Secret ${ref.name}, which is not rendered`)
      env.set(e.name, { source: 'secret' })
    } else if (e.valueFrom?.fieldRef === undefined) {
      env.set(e.name, { source: 'value', value: e.value })
    }
  }
  return env
}

/**
 * `<pod>.<service>` (a StatefulSet pod by its stable name, as the headless Service that governs it
 * publishes it) and a port one of its containers listens on.
 */
function podAddressExists (objs: K8s[], host: string, port: number): boolean {
  const [pod, service] = host.split('.') as [string, string | undefined]
  if (service === undefined) return false
  const governing = find(objs, 'Service', service)
  if (governing?.spec.clusterIP !== 'None') return false
  return objs.some((o) => {
    if (o.kind !== 'StatefulSet' || o.spec.serviceName !== service) return false
    const ordinal = pod.startsWith(`${o.metadata.name}-`) ? Number(pod.slice(o.metadata.name.length + 1)) : NaN
    return Number.isInteger(ordinal) && ordinal >= 0 && ordinal < (o.spec.replicas ?? 1) &&
      o.spec.template.spec.containers.some((c: K8s) => (c.ports ?? []).some((p: K8s) => p.containerPort === port))
  })
}

for (const [overlay, objs] of Object.entries(overlays) as [keyof typeof overlays, K8s[]][]) {
  t.test(`${overlay}: every service has a Deployment, Service, autoscaler, disruption budget, network policy and, owning a schema, a migration Job`, async (t) => {
    for (const s of inOverlay(overlay)) {
      const deployment = find(objs, 'Deployment', s.name)
      t.ok(deployment, `${s.name}: Deployment`)
      if (deployment === undefined) continue
      const podLabels = deployment.spec.template.metadata.labels
      const svc = find(objs, 'Service', s.name)
      t.ok(svc, `${s.name}: Service`)
      t.match(svc?.spec.selector, deployment.spec.selector.matchLabels, `${s.name}: the Service selects its pods`)
      const hpa = find(objs, 'HorizontalPodAutoscaler', s.name)
      t.same(hpa?.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: s.name }, `${s.name}: the autoscaler scales its Deployment`)
      t.ok(hpa?.spec.minReplicas >= 1 && hpa?.spec.maxReplicas >= hpa?.spec.minReplicas, `${s.name}: autoscaler bounds`)
      t.equal(deployment.spec.replicas, undefined, `${s.name}: the Deployment leaves the replica count to the autoscaler`)
      const pdb = find(objs, 'PodDisruptionBudget', s.name)
      t.ok(pdb !== undefined && Object.entries(pdb.spec.selector.matchLabels).every(([k, v]) => podLabels[k] === v), `${s.name}: a disruption budget over its pods`)
      const ingressPolicy = objs.find((o) => o.kind === 'NetworkPolicy' && o.spec.policyTypes.includes('Ingress') && o.spec.ingress !== undefined &&
        Object.entries(o.spec.podSelector.matchLabels ?? {}).every(([k, v]) => podLabels[k] === v) && Object.keys(o.spec.podSelector.matchLabels ?? {}).length > 0)
      t.ok(ingressPolicy, `${s.name}: a NetworkPolicy says who may reach it`)
      const job = find(objs, 'Job', `${s.name}-migrate`)
      if (s.schema === undefined) {
        t.notOk(job, `${s.name}: no migration Job`)
      } else {
        t.ok(job, `${s.name}: migration Job`)
        const c = job?.spec.template.spec.containers[0]
        t.same(c?.command, ['node', 'dist/db/migrate.js'], `${s.name}: the Job runs the migration entry point`)
        t.equal(c?.image, deployment.spec.template.spec.containers[0].image, `${s.name}: the Job uses the service's image`)
        t.equal(environmentOf(objs, c).get('DATABASE_URL')?.source, 'secret', `${s.name}: the Job gets DATABASE_URL from the Secret`)
      }
    }
    const rendered = objs.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name).sort()
    t.same(rendered, inOverlay(overlay).map((s) => s.name).sort(), 'no Deployment beyond the enabled services')
  })

  t.test(`${overlay}: every container has probes, resources and runs as non-root`, async (t) => {
    for (const w of workloads(objs)) {
      const pod = w.spec.template.spec
      for (const c of pod.containers) {
        const where = `${w.kind} ${w.metadata.name}/${c.name}`
        const nonRoot = c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot
        const uid = c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser
        t.equal(nonRoot, true, `${where}: runAsNonRoot`)
        t.ok(typeof uid === 'number' && uid > 0, `${where}: a non-zero user id`)
        t.equal(c.securityContext?.allowPrivilegeEscalation, false, `${where}: no privilege escalation`)
        t.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory, `${where}: CPU and memory requests, memory limit`)
        if (w.kind !== 'Job') t.ok(c.readinessProbe && c.livenessProbe, `${where}: readiness and liveness probes`)
      }
    }
    for (const s of inOverlay(overlay).filter((s) => s.simulator === undefined)) {
      const c = find(objs, 'Deployment', s.name).spec.template.spec.containers[0]
      t.equal(c.readinessProbe.httpGet?.path, '/ready', `${s.name}: readiness on /ready`)
      t.equal(c.livenessProbe.httpGet?.path, '/health', `${s.name}: liveness on /health`)
      t.equal(c.securityContext.readOnlyRootFilesystem, true, `${s.name}: read-only root filesystem`)
    }
  })

  t.test(`${overlay}: terminationGracePeriodSeconds outlasts the preStop pause and the drain (SHUTDOWN_TIMEOUT_MS)`, async (t) => {
    for (const s of inOverlay(overlay).filter((s) => s.simulator === undefined)) {
      const d = find(objs, 'Deployment', s.name)
      const c = d.spec.template.spec.containers[0]
      const drainMs = Number(environmentOf(objs, c).get('SHUTDOWN_TIMEOUT_MS')?.value ?? 10_000)
      const pause = Number(c.lifecycle?.preStop?.exec?.command?.[1] ?? 0)
      t.equal(pause, PRE_STOP_SLEEP_S, `${s.name}: preStop pause`)
      t.ok(d.spec.template.spec.terminationGracePeriodSeconds > pause + drainMs / 1000,
        `${s.name}: ${d.spec.template.spec.terminationGracePeriodSeconds}s > ${pause}s + ${drainMs} ms`)
    }
  })

  t.test(`${overlay}: every setting a service needs is wired, secrets from the Secret, URLs to what is deployed`, async (t) => {
    const services = new Map(objs.filter((o) => o.kind === 'Service').map((o) => [o.metadata.name, o.spec.ports.map((p: K8s) => p.port)]))
    const planned = new Map(SERVICES.map((s) => [s.name, s]))
    for (const s of inOverlay(overlay).filter((s) => s.simulator === undefined)) {
      const settings = await configSettings(s)
      t.ok(settings, `${s.name}: its config schema is readable`)
      if (settings === null) continue
      const env = environmentOf(objs, find(objs, 'Deployment', s.name).spec.template.spec.containers[0])
      for (const setting of settingsToWire(settings)) {
        const got = env.get(setting.name)
        t.ok(got, `${s.name}: ${setting.name} is set`)
        if (got === undefined) continue
        if (isSecretSetting(setting.name)) t.equal(got.source, 'secret', `${s.name}: ${setting.name} comes from the Secret`)
        if (got.value === undefined) continue
        // A URL setting may list several servers (NATS_URL of a cluster): each is checked.
        for (const value of got.value.split(',')) {
          t.notMatch(value, /^(\w+:\/\/([^@/]*@)?)?(127\.0\.0\.1|localhost)(:|\/|$)/, `${s.name}: ${setting.name} is not a laptop address`)
          const url = /^[a-z]+:\/\//.test(value) ? new URL(value) : undefined
          if (url !== undefined && !url.hostname.includes('.')) {
            // An in-cluster name: a rendered Service on that port, or a listed service not enabled yet.
            const ports = services.get(url.hostname)
            t.ok(ports?.includes(Number(url.port)) || planned.get(url.hostname)?.enabled === false,
              `${s.name}: ${setting.name}=${value} names a Service of this overlay`)
          } else if (url !== undefined && url.hostname.split('.').length === 2 && services.has(url.hostname.split('.')[1]!)) {
            // `<pod>.<service>`: a pod of a StatefulSet by its stable name.
            t.ok(podAddressExists(objs, url.hostname, Number(url.port)), `${s.name}: ${setting.name}=${value} names a pod of a StatefulSet of this overlay`)
          }
        }
      }
      for (const [name, value] of env) {
        // Lists of addresses (REDIS_SENTINELS): every one a pod of this overlay.
        if (name === 'REDIS_SENTINELS' && value.value !== undefined) {
          for (const address of value.value.split(',')) {
            const [host, port] = address.trim().split(':') as [string, string]
            t.ok(podAddressExists(objs, host, Number(port)), `${s.name}: ${name} lists ${address}, a pod of this overlay`)
          }
        }
      }
      t.equal(env.get('HOST')?.value, COMMON_SETTINGS.HOST, `${s.name}: listens on every interface`)
      const port = settings.find((x) => x.name === 'PORT')?.default
      t.equal(port, s.port, `${s.name}: the list's port is the config default`)
      t.equal(env.get('PORT')?.value, String(port), `${s.name}: PORT`)
    }
  })

  t.test(`${overlay}: every service that uses NATS logs in as its own user, with the password the server gets`, async (t) => {
    const natsServer = find(objs, 'StatefulSet', 'nats')?.spec.template.spec.containers[0]
    for (const s of inOverlay(overlay).filter((s) => s.nats === true)) {
      const c = find(objs, 'Deployment', s.name).spec.template.spec.containers[0]
      const env = environmentOf(objs, c)
      t.same(env.get('NATS_USER'), { source: 'configmap', value: s.name }, `${s.name}: NATS_USER is its NATS user`)
      const password = (c.env as K8s[]).find((e) => e.name === 'NATS_PASSWORD')?.valueFrom?.secretKeyRef
      t.equal(password?.key, natsPasswordKey(s), `${s.name}: NATS_PASSWORD is the Secret's ${natsPasswordKey(s)}`)
      const serverPassword = (natsServer?.env as K8s[] | undefined)?.find((e) => e.name === natsPasswordKey(s))?.valueFrom?.secretKeyRef
      t.same(serverPassword, password, `the NATS server reads ${s.name}'s password from the same key`)
    }
  })

  t.test(`${overlay}: image names and ports match the services`, async (t) => {
    for (const s of inOverlay(overlay)) {
      const d = find(objs, 'Deployment', s.name)
      const c = d.spec.template.spec.containers[0]
      const image = c.image as string
      const [repository, tag] = image.split(':') as [string, string | undefined]
      t.equal(repository.split('/').at(-1), imageOf(s), `${s.name}: image ${image}`)
      t.ok(tag !== undefined && tag !== 'latest', `${s.name}: a pinned tag`)
      if (overlay === 'production') t.match(repository, /^ghcr\.io\//, `${s.name}: from the registry the tag workflow pushes to`)
      t.same(c.ports.map((p: K8s) => p.containerPort), [s.port], `${s.name}: container port`)
      t.same(find(objs, 'Service', s.name).spec.ports.map((p: K8s) => p.port), [s.port], `${s.name}: Service port`)
    }
  })

  t.test(`${overlay}: NATS runs with JetStream on a persistent volume`, async (t) => {
    const nats = find(objs, 'StatefulSet', 'nats')
    t.ok(nats, 'a NATS StatefulSet')
    t.equal(nats?.spec.volumeClaimTemplates?.[0]?.metadata.name, 'data', 'with a PersistentVolumeClaim')
    const conf = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('nats-config'))?.data['nats.conf'] as string
    t.match(conf, /jetstream \{[^}]*store_dir: "\/data"/, 'JetStream stores on the volume')
    t.match(conf, /sync_interval: always/, 'and syncs before acknowledging')
  })
}

t.test('the simulator runs in the local overlay only; local runs one Postgres and one Redis, production their replicated sets', async (t) => {
  t.ok(workloads(overlays.local).some((w) => w.metadata.name === 'provider-sim'), 'local runs the simulator')
  t.notOk(workloads(overlays.production).some((w) => w.metadata.name === 'provider-sim'), 'production does not')
  for (const name of ['postgres', 'redis']) t.equal(find(overlays.local, 'StatefulSet', name)?.spec.replicas, 1, `local runs one ${name}`)
  t.notOk(find(overlays.production, 'StatefulSet', 'postgres'), 'production runs no hand-made Postgres: CloudNativePG does')
  t.equal(find(overlays.production, 'StatefulSet', 'redis')?.spec.replicas, 2, 'production runs a Redis primary and replica')
  t.equal(find(overlays.production, 'StatefulSet', 'redis-sentinel')?.spec.replicas, 3, 'and three Sentinels')
})

t.test('only the gateway is exposed, by an HTTPRoute on the Gateway (Gateway API), not by an Ingress', async (t) => {
  for (const [overlay, objs] of Object.entries(overlays)) {
    t.notOk(objs.some((o) => o.kind === 'Ingress'), `${overlay}: no Ingress`)
    t.notOk(objs.some((o) => Object.keys(o.metadata?.annotations ?? {}).some((k) => k.startsWith('nginx.ingress.kubernetes.io/'))), `${overlay}: no ingress-nginx annotations`)
    const routes = objs.filter((o) => o.kind === 'HTTPRoute')
    t.ok(routes.length > 0, `${overlay}: an HTTPRoute`)
    for (const route of routes) {
      t.equal(route.apiVersion, 'gateway.networking.k8s.io/v1', `${overlay}: ${route.metadata.name} is a Gateway API v1 route`)
      t.ok(route.spec.parentRefs.length > 0 && route.spec.parentRefs.every((p: K8s) => p.kind === 'Gateway' && p.name === ENTRY_GATEWAY.name && p.namespace === ENTRY_GATEWAY.namespace),
        `${overlay}: ${route.metadata.name} attaches to the Gateway ${ENTRY_GATEWAY.namespace}/${ENTRY_GATEWAY.name}`)
      const backends = route.spec.rules.flatMap((r: K8s) => (r.backendRefs ?? []).map((b: K8s) => `${b.name}:${b.port}`))
      t.ok(backends.every((b: string) => b === 'gateway:3000'), `${overlay}: ${route.metadata.name} reaches the gateway only (${backends.join(', ') || 'no backend'})`)
    }
    const route = find(objs, 'HTTPRoute', 'gateway')
    t.ok(route.spec.rules.some((r: K8s) => r.matches.some((m: K8s) => m.path.type === 'PathPrefix' && m.path.value === '/') && r.backendRefs?.length > 0), `${overlay}: every path goes to the gateway`)
    t.ok(route.spec.rules.some((r: K8s) => r.matches.some((m: K8s) => m.path.value === '/events') && r.timeouts?.request === '0s'), `${overlay}: the /events stream has no request timeout`)
    t.notOk(objs.some((o) => o.kind === 'Service' && (o.spec.type ?? 'ClusterIP') !== 'ClusterIP'), 'no Service of type NodePort or LoadBalancer')
  }
  t.same(find(overlays.local, 'HTTPRoute', 'gateway').spec.hostnames, ['pulse.localhost'])
  const production = find(overlays.production, 'HTTPRoute', 'gateway')
  t.ok(production.spec.parentRefs.every((p: K8s) => p.sectionName === 'https'), 'production serves the gateway on the HTTPS listener only')
  const redirect = find(overlays.production, 'HTTPRoute', 'gateway-https-redirect')
  t.ok(redirect?.spec.parentRefs.every((p: K8s) => p.sectionName === 'http'), 'production: plain HTTP gets a redirect')
  t.same(redirect?.spec.rules.map((r: K8s) => r.filters?.[0]?.requestRedirect?.scheme), ['https'])
  t.same(redirect?.spec.hostnames, production.spec.hostnames, 'the redirect covers the same host names')
})

t.test('the Gateway the routes attach to: an HTTP and a TLS listener that admit routes from the pulse namespace', async (t) => {
  const objs = renderKustomization('k8s/gateway')
  const gateway = objs.find((o) => o.kind === 'Gateway')
  t.equal(gateway?.apiVersion, 'gateway.networking.k8s.io/v1')
  t.same({ name: gateway?.metadata.name, namespace: gateway?.metadata.namespace }, ENTRY_GATEWAY)
  t.ok(find(objs, 'Namespace', ENTRY_GATEWAY.namespace), 'its namespace, whose name the gateway\'s NetworkPolicy admits')
  const listener = (name: string) => gateway?.spec.listeners.find((l: K8s) => l.name === name)
  t.equal(listener('http')?.protocol, 'HTTP')
  t.equal(listener('https')?.protocol, 'HTTPS')
  t.equal(listener('https')?.tls?.mode, 'Terminate')
  t.ok(listener('https')?.tls?.certificateRefs?.length > 0, 'a certificate for TLS')
  for (const l of gateway?.spec.listeners ?? []) {
    t.same(l.allowedRoutes?.namespaces, { from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': 'pulse' } } }, `${l.name}: admits routes from the pulse namespace only`)
  }
  t.same(listener('https')?.hostname, find(overlays.production, 'HTTPRoute', 'gateway').spec.hostnames[0], 'the TLS listener serves the production host')
})

// TRUST_PROXY decides whose X-Forwarded-For the gateway believes: in production only the Gateway's
// proxies, one address or a small range of them, never a private range where any pod could claim
// to be any client.
t.test('production: the gateway trusts only the hop in front of it, not a broad private range', async (t) => {
  const config = find(overlays.production, 'Deployment', 'gateway').spec.template.spec.containers[0]
  const trust = environmentOf(overlays.production, config).get('TRUST_PROXY')?.value ?? ''
  const entries = trust.split(',').map((e) => e.trim()).filter((e) => e !== '')
  t.ok(entries.length > 0, 'TRUST_PROXY is set (the client address comes through the Gateway)')
  for (const entry of entries) {
    const [address, bits] = entry.split('/') as [string, string | undefined]
    const family = isIP(address)
    t.ok(family !== 0, `${entry}: an address or a CIDR range (not a name such as "private" or "true")`)
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits)
    t.ok(family === 6 ? prefix >= 124 : prefix >= 28, `${entry}: at most 16 addresses`)
  }
})

// --- NetworkPolicy semantics: who can open a connection to whom -------------------------------

interface Endpoint { labels: Record<string, string>, namespace: Record<string, string>, ip?: string }
const NAMESPACE = { 'kubernetes.io/metadata.name': 'pulse' }
const podOf = (objs: K8s[], name: string): Endpoint => {
  const w = workloads(objs).find((o) => o.metadata.name === name)
  if (w === undefined) throw new Error(`no workload ${name}`)
  return { labels: w.spec.template.metadata.labels, namespace: NAMESPACE }
}
/** A proxy pod of the Gateway, in the Gateway's namespace. */
const OUTSIDE: Endpoint = { labels: { 'app.kubernetes.io/name': 'gateway-proxy' }, namespace: { 'kubernetes.io/metadata.name': ENTRY_GATEWAY.namespace } }
/** A pod of some other namespace of the cluster. */
const ELSEWHERE: Endpoint = { labels: { 'app.kubernetes.io/name': 'gateway-proxy' }, namespace: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }
const external = (ip: string): Endpoint => ({ labels: {}, namespace: {}, ip })

const matchesLabels = (selector: K8s, labels: Record<string, string>) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v)

function ipInCidr (ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string]
  const n = (a: string) => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0)
  const size = 2 ** (32 - Number(bits))
  return Math.floor(n(ip) / size) === Math.floor(n(base) / size)
}

function peerMatches (peer: K8s, e: Endpoint): boolean {
  if (peer.ipBlock !== undefined) {
    return e.ip !== undefined && ipInCidr(e.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((x: string) => ipInCidr(e.ip!, x))
  }
  if (e.ip !== undefined) return false
  const namespaceOk = peer.namespaceSelector === undefined ? e.namespace === NAMESPACE : matchesLabels(peer.namespaceSelector, e.namespace)
  const podOk = peer.podSelector === undefined || matchesLabels(peer.podSelector, e.labels)
  return namespaceOk && podOk
}

function allows (objs: K8s[], direction: 'Ingress' | 'Egress', self: Endpoint, other: Endpoint, port: number): boolean {
  if (self.ip !== undefined || self.namespace !== NAMESPACE) return true // outside this namespace's policies
  const policies = objs.filter((o) => o.kind === 'NetworkPolicy' && o.spec.policyTypes.includes(direction) && matchesLabels(o.spec.podSelector, self.labels))
  if (policies.length === 0) return true
  const rules = policies.flatMap((p) => (direction === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? [])
  return rules.some((r: K8s) =>
    (r.ports === undefined || r.ports.some((p: K8s) => p.port === port)) &&
    ((direction === 'Ingress' ? r.from : r.to) ?? []).some((peer: K8s) => peerMatches(peer, other)))
}

const canConnect = (objs: K8s[], from: Endpoint, to: Endpoint, port: number) =>
  allows(objs, 'Egress', from, to, port) && allows(objs, 'Ingress', to, from, port)

t.test('network policies: only the gateway takes traffic from outside, and only the gateway reaches the services', async (t) => {
  for (const [overlay, objs] of Object.entries(overlays)) {
    const gateway = podOf(objs, 'gateway')
    t.ok(canConnect(objs, OUTSIDE, gateway, 3000), `${overlay}: the Gateway's proxies reach the gateway`)
    t.notOk(canConnect(objs, ELSEWHERE, gateway, 3000), `${overlay}: pods of other namespaces do not`)
    const everything = workloads(objs).filter((w) => w.kind !== 'Job' && w.metadata.name !== 'gateway')
    for (const w of everything) {
      const target = podOf(objs, w.metadata.name)
      const port = w.spec.template.spec.containers[0].ports[0].containerPort
      t.notOk(canConnect(objs, OUTSIDE, target, port), `${overlay}: nothing from outside reaches ${w.metadata.name}`)
    }
    for (const s of deployedServices().filter((s) => s.upstreamVar !== undefined)) {
      t.ok(canConnect(objs, gateway, podOf(objs, s.name), s.port), `${overlay}: the gateway reaches ${s.name}`)
      for (const other of deployedServices().filter((o) => o.name !== s.name && o.name !== 'gateway')) {
        t.notOk(canConnect(objs, podOf(objs, other.name), podOf(objs, s.name), s.port), `${overlay}: ${other.name} does not reach ${s.name}`)
      }
    }
  }
})

// The list may declare a dependency a service is about to use (its code landing in another change):
// reaching it is then allowed; reaching one that neither its configuration nor the list names is not.
t.test('network policies: each service reaches the datastores its configuration names and no other, and the providers if it calls them', async (t) => {
  const needs = async (s: ServiceSpec) => {
    const names = new Set((await configSettings(s))?.map((x) => x.name) ?? [])
    return { postgres: names.has('DATABASE_URL'), redis: names.has('REDIS_URL'), nats: names.has('NATS_URL') }
  }
  for (const [overlay, objs] of Object.entries(overlays)) {
    const target = overlay === 'local'
      ? { postgres: podOf(objs, 'postgres'), redis: podOf(objs, 'redis') }
      : { postgres: { labels: { 'cnpg.io/poolerName': 'pulse-db-pooler' }, namespace: NAMESPACE }, redis: podOf(objs, 'redis') }
    const nats = podOf(objs, 'nats')
    for (const s of deployedServices()) {
      const need = await needs(s)
      const pod = podOf(objs, s.name)
      const declared = { postgres: s.schema !== undefined, redis: s.redis === true, nats: s.nats === true }
      for (const [dep, reach] of [['postgres', canConnect(objs, pod, target.postgres, 5432)], ['redis', canConnect(objs, pod, target.redis, 6379)], ['nats', canConnect(objs, pod, nats, 4222)]] as const) {
        if (need[dep]) t.ok(reach, `${overlay}: ${s.name} reaches ${dep}, which its configuration names`)
        else if (!declared[dep]) t.notOk(reach, `${overlay}: ${s.name} does not reach ${dep}`)
      }
      t.equal(canConnect(objs, pod, external('203.0.113.7'), 443), s.providers !== undefined, `${overlay}: ${s.name} ${s.providers !== undefined ? 'reaches' : 'does not reach'} the internet over HTTPS`)
      t.notOk(canConnect(objs, pod, external('10.1.2.3'), 443), `${overlay}: ${s.name} does not reach private addresses`)
      if (s.schema !== undefined) t.ok(canConnect(objs, podOf(objs, `${s.name}-migrate`), target.postgres, 5432), `${overlay}: ${s.name}'s migration Job reaches Postgres`)
    }
  }
})

// --- production: losing one node -------------------------------------------------------------

const production = overlays.production
const argsOf = (c: K8s): string[] => c.args ?? []
const argAfter = (c: K8s, flag: string): string | undefined => { const a = argsOf(c); const i = a.indexOf(flag); return i === -1 ? undefined : a[i + 1] }
const spreadsOverNodes = (pod: K8s, labels: Record<string, string>, strict: boolean) =>
  (pod.topologySpreadConstraints ?? []).some((c: K8s) => c.topologyKey === 'kubernetes.io/hostname' && c.maxSkew === 1 &&
    (!strict || c.whenUnsatisfiable === 'DoNotSchedule') && matchesLabels(c.labelSelector, labels))

t.test('production: NATS is a three-server JetStream cluster with per-pod storage, and every client is given every server', async (t) => {
  const nats = find(production, 'StatefulSet', 'nats')
  t.equal(nats?.spec.replicas, 3, 'three servers')
  t.equal(nats?.spec.podManagementPolicy, 'Parallel', 'started together (a server is ready only once the cluster has a JetStream leader)')
  t.equal(nats?.spec.volumeClaimTemplates?.[0]?.metadata.name, 'data', 'each with its own volume')
  const c = nats?.spec.template.spec.containers[0]
  t.equal(argAfter(c, '--server_name'), '$(POD_NAME)', 'JetStream needs a unique server name per pod')
  t.ok(argAfter(c, '--cluster_name'), 'a cluster name')
  t.equal(argAfter(c, '--cluster'), 'nats://0.0.0.0:6222', 'listens for routes')
  t.ok(c.ports.some((p: K8s) => p.containerPort === 6222), 'on a declared port')
  const routes = (argAfter(c, '--routes') ?? '').split(',').map((r) => new URL(r))
  t.same(routes.map((r) => r.hostname).sort(), ['nats-0.nats-cluster', 'nats-1.nats-cluster', 'nats-2.nats-cluster'], 'routes to every server')
  for (const r of routes) t.ok(podAddressExists(production, r.hostname, Number(r.port)), `${r.host} is a pod of the StatefulSet, by its headless Service`)
  t.equal(nats?.spec.serviceName, 'nats-cluster', 'governed by the headless Service that names its pods')
  t.equal(find(production, 'Service', 'nats-cluster')?.spec.publishNotReadyAddresses, true, 'names resolvable before the servers are ready')
  const conf = production.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('nats-config'))?.data['nats.conf'] as string
  t.match(conf, /jetstream \{[^}]*store_dir: "\/data"/, 'JetStream on the volume')
  t.ok(canConnect(production, podOf(production, 'nats'), podOf(production, 'nats'), 6222), 'the servers reach each other\'s routes')
  for (const s of inOverlay('production').filter((s) => s.nats === true)) {
    const env = environmentOf(production, find(production, 'Deployment', s.name).spec.template.spec.containers[0])
    const urls = (env.get('NATS_URL')?.value ?? '').split(',').map((u) => new URL(u).hostname).sort()
    t.same(urls, ['nats-0.nats-cluster', 'nats-1.nats-cluster', 'nats-2.nats-cluster'], `${s.name}: NATS_URL lists every server`)
    t.equal(env.get('NATS_STREAM_REPLICAS')?.value, '3', `${s.name}: its streams are kept on three servers`)
  }
})

t.test('production: Redis with Sentinel (primary, replica, three Sentinels), and every Redis client goes through the Sentinels', async (t) => {
  const redis = find(production, 'StatefulSet', 'redis')
  const sentinel = find(production, 'StatefulSet', 'redis-sentinel')
  t.equal(redis?.spec.replicas, 2, 'a primary and a replica')
  t.equal(redis?.spec.volumeClaimTemplates?.[0]?.metadata.name, 'data', 'each data node with its own volume')
  t.equal(sentinel?.spec.replicas, 3, 'three Sentinels: a quorum of two survives the loss of one')
  const scripts = production.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('redis-scripts'))?.data ?? {}
  t.match(scripts['start-sentinel.sh'], /sentinel monitor mymaster \$\{primary\} 6379 2/, 'the Sentinels monitor the primary with a quorum of two')
  t.match(scripts['start-sentinel.sh'], /get-master-addr-by-name mymaster/, 'a restarted Sentinel follows the primary the others name')
  t.match(scripts['start-redis.sh'], /get-master-addr-by-name mymaster/, 'a restarted data node joins the current primary, never starts as a second one')
  for (const [w, port] of [[redis, 6379], [sentinel, 26379]] as const) {
    const headless = find(production, 'Service', w.spec.serviceName)
    t.equal(headless?.spec.clusterIP, 'None', `${w.metadata.name}: stable pod names from a headless Service`)
    t.ok(w.spec.template.spec.containers[0].ports.some((p: K8s) => p.containerPort === port), `${w.metadata.name}: listens on ${port}`)
  }
  for (const s of inOverlay('production').filter((s) => s.redis === true)) {
    const c = find(production, 'Deployment', s.name).spec.template.spec.containers[0]
    const env = environmentOf(production, c)
    const sentinels = (env.get('REDIS_SENTINELS')?.value ?? '').split(',').map((a) => a.split(':')[0]).sort()
    t.same(sentinels, ['redis-sentinel-0.redis-sentinel', 'redis-sentinel-1.redis-sentinel', 'redis-sentinel-2.redis-sentinel'], `${s.name}: REDIS_SENTINELS lists the three Sentinels`)
    t.equal(env.get('REDIS_SENTINEL_PASSWORD')?.source, 'secret', `${s.name}: the Sentinels' password from the Secret`)
    const pod = podOf(production, s.name)
    t.ok(canConnect(production, pod, podOf(production, 'redis-sentinel'), 26379), `${s.name} reaches the Sentinels`)
    t.ok(canConnect(production, pod, podOf(production, 'redis'), 6379), `${s.name} reaches the data nodes`)
  }
  const [node, watcher] = [podOf(production, 'redis'), podOf(production, 'redis-sentinel')]
  t.ok(canConnect(production, node, node, 6379), 'the replica reaches the primary')
  t.ok(canConnect(production, watcher, node, 6379), 'the Sentinels reach the data nodes')
  t.ok(canConnect(production, watcher, watcher, 26379), 'and each other')
  t.ok(canConnect(production, node, watcher, 26379), 'a starting data node asks the Sentinels')
  t.notOk(canConnect(production, podOf(production, 'mood'), watcher, 26379), 'a service without Redis does not reach the Sentinels')
})

t.test('production: Postgres as a CloudNativePG Cluster of three instances behind a Pooler, which the services use', async (t) => {
  const cluster = production.find((o) => o.kind === 'Cluster')
  t.equal(cluster?.apiVersion, 'postgresql.cnpg.io/v1', 'a CloudNativePG Cluster')
  t.equal(cluster?.spec.instances, 3, 'three instances: a primary and two replicas')
  t.same(cluster?.spec.affinity, { enablePodAntiAffinity: true, podAntiAffinityType: 'required', topologyKey: 'kubernetes.io/hostname' }, 'each on its own node')
  t.ok(cluster?.spec.postgresql?.synchronous?.number >= 1, 'a commit is on a replica too before it is acknowledged')
  const pooler = production.find((o) => o.kind === 'Pooler')
  t.equal(pooler?.spec.cluster.name, cluster?.metadata.name, 'a Pooler of that Cluster')
  t.equal(pooler?.spec.type, 'rw', 'in front of the primary, wherever it moves')
  t.ok(pooler?.spec.instances >= 2, 'more than one PgBouncer')
  t.match(pooler?.spec.pgbouncer.parameters.ignore_startup_parameters, /\boptions\b/, 'PgBouncer accepts the services\' start-up parameters')
  const poolerPod: Endpoint = { labels: { 'cnpg.io/poolerName': pooler?.metadata.name, ...pooler?.spec.template?.metadata?.labels }, namespace: NAMESPACE }
  const instance: Endpoint = { labels: { 'cnpg.io/cluster': cluster?.metadata.name }, namespace: NAMESPACE }
  const example = readRepoFile('infra/k8s/overlays/production/secrets.env.example')
  for (const s of inOverlay('production').filter((s) => s.schema !== undefined)) {
    const key = `${s.name.toUpperCase().replace(/-/g, '_')}_DATABASE_URL`
    const url = new URL(new RegExp(`^${key}=(.*)$`, 'm').exec(example)?.[1] ?? 'invalid:')
    t.equal(url.hostname, pooler?.metadata.name, `${s.name}: ${key} points at the Pooler`)
    t.ok(canConnect(production, podOf(production, s.name), poolerPod, 5432), `${s.name} reaches the Pooler`)
    t.notOk(canConnect(production, podOf(production, s.name), instance, 5432), `${s.name} does not go around it`)
  }
  t.ok(canConnect(production, poolerPod, instance, 5432), 'the Pooler reaches the instances')
  t.ok(canConnect(production, instance, instance, 5432), 'the instances replicate from each other')
  t.notOk(canConnect(production, podOf(production, 'gateway'), poolerPod, 5432), 'the gateway (no database) does not reach Postgres')
})

t.test('production: every Deployment and StatefulSet, and the Postgres pods, have a disruption budget and spread over nodes', async (t) => {
  for (const w of production.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
    const labels = w.spec.template.metadata.labels
    const pdb = production.find((o) => o.kind === 'PodDisruptionBudget' && matchesLabels(o.spec.selector, labels))
    t.ok(pdb, `${w.kind} ${w.metadata.name}: a disruption budget`)
    t.ok(pdb?.spec.maxUnavailable === 1 || pdb?.spec.minAvailable !== undefined, `${w.kind} ${w.metadata.name}: one pod at a time`)
    t.ok(spreadsOverNodes(w.spec.template.spec, labels, true), `${w.kind} ${w.metadata.name}: spread over nodes (kubernetes.io/hostname, DoNotSchedule)`)
  }
  for (const s of inOverlay('production')) {
    const hpa = find(production, 'HorizontalPodAutoscaler', s.name)
    t.ok(hpa?.spec.minReplicas >= 2, `${s.name}: at least two replicas, so a node's loss leaves one`)
  }
  const pooler = production.find((o) => o.kind === 'Pooler')
  const poolerLabels = { 'cnpg.io/poolerName': pooler?.metadata.name }
  t.ok(spreadsOverNodes(pooler?.spec.template.spec, poolerLabels, true), 'the Pooler spreads over nodes')
  t.ok(production.some((o) => o.kind === 'PodDisruptionBudget' && matchesLabels(o.spec.selector, poolerLabels)), 'the Pooler has a disruption budget')
  const cluster = production.find((o) => o.kind === 'Cluster')
  t.not(cluster?.spec.enablePDB, false, 'the Cluster keeps the operator\'s disruption budgets')
})
