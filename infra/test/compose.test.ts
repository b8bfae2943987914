import t from 'tap'
import { parse } from 'yaml'
import { passwordVariable, readPermissions } from '../src/nats.js'
import { SERVICES, healthPathOf, imageOf } from '../src/services.js'
import { configSettings, isSecretSetting, readRepoFile, settingsToWire } from './helper.js'

// Compose files are read loosely: the tests check their shape field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Service = any
const compose = parse(readRepoFile('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>, volumes: Record<string, unknown> }
const services = compose.services
const envExample = new Map(readRepoFile('.env.example').split('\n').filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
const BROWSER_URLS = ['PUBLIC_URL', 'FRONTEND_URL']
const deployed = SERVICES.filter((s) => s.enabled && s.simulator === undefined)

/** A value with ${VAR…} references resolved from .env.example, as `docker compose` would with a copy of it as .env. */
function interpolate (value: string): string {
  return value.replace(/\$\{(\w+)(?::?[-?][^}]*)?\}/g, (_m, name: string) => envExample.get(name) ?? '')
}

t.test('every deployed service runs from its image, built from the one Dockerfile with its folder and port', async (t) => {
  for (const s of [...deployed, ...SERVICES.filter((s) => s.simulator === true)]) {
    const c = services[s.name]
    t.ok(c, `${s.name} is in docker-compose.yml`)
    if (c === undefined) continue
    t.match(c.image, new RegExp(`^${imageOf(s)}:`), `${s.name}: image ${imageOf(s)}`)
    t.equal(c.build?.dockerfile, 'infra/docker/Dockerfile')
    t.same(c.build?.args, { SERVICE: s.dir, PORT: String(s.port), ...(s.healthPath === undefined ? {} : { HEALTH_PATH: healthPathOf(s) }) }, `${s.name}: build arguments`)
    t.ok(c.healthcheck?.test, `${s.name}: a health check`)
    t.equal(c.read_only, true, `${s.name}: read-only root filesystem`)
  }
  t.same(services['provider-sim']?.profiles, ['dev'], 'the simulator runs under the dev profile only')
})

t.test('every setting a service needs is set in docker-compose.yml, secrets from .env', async (t) => {
  for (const s of deployed) {
    const env = services[s.name]?.environment as Record<string, string> | undefined
    const settings = await configSettings(s)
    t.ok(env !== undefined && settings !== null, `${s.name}: environment and config schema`)
    if (env === undefined || settings === null) continue
    for (const setting of settingsToWire(settings)) {
      const raw = env[setting.name]
      t.ok(raw !== undefined, `${s.name}: ${setting.name} is set`)
      if (raw === undefined) continue
      if (isSecretSetting(setting.name)) t.match(String(raw), /\$\{\w+/, `${s.name}: ${setting.name} comes from .env, not the file`)
      const value = interpolate(String(raw))
      t.not(value, '', `${s.name}: ${setting.name} has a value with .env.example`)
      // The browser-facing URLs may well be the host's loopback, where the gateway is published.
      if (!BROWSER_URLS.includes(setting.name)) t.notMatch(value, /^(\w+:\/\/([^@/]*@)?)?(127\.0\.0\.1|localhost)(:|\/|$)/, `${s.name}: ${setting.name} is not a container's own loopback`)
      const url = /^[a-z]+:\/\//.test(value) ? new URL(value) : undefined
      if (url !== undefined && !url.hostname.includes('.')) {
        const target = SERVICES.find((x) => x.name === url.hostname)
        t.ok(services[url.hostname] !== undefined || target?.enabled === false, `${s.name}: ${setting.name} names a Compose service (${url.hostname})`)
        if (target !== undefined && target.enabled) t.equal(Number(url.port), target.port, `${s.name}: ${setting.name} uses ${url.hostname}'s port`)
      }
    }
    t.equal(String(env.PORT), String(s.port), `${s.name}: PORT`)
    t.equal(env.HOST, '0.0.0.0', `${s.name}: listens on every interface of its container`)
  }
})

t.test('every service that uses NATS logs in as its own user, with the password the server gets', async (t) => {
  const allowsAnonymous = readPermissions().unauthenticated.allow
  for (const s of deployed.filter((s) => s.nats === true)) {
    const env = (services[s.name]?.environment ?? {}) as Record<string, string>
    const variable = passwordVariable(s.name)
    const read = new Set((await configSettings(s))?.map((x) => x.name))
    t.ok(read.has('NATS_USER') && read.has('NATS_PASSWORD'), `${s.name}: its configuration reads NATS_USER and NATS_PASSWORD`)
    const url = new URL(interpolate(String(env.NATS_URL ?? '')))
    if (url.username !== '') {
      t.equal(decodeURIComponent(url.username), s.name, `${s.name}: NATS_URL names its user`)
      t.match(String(env.NATS_URL), new RegExp(`\\$\\{${variable}\\b`), `${s.name}: NATS_URL holds ${variable}`)
    } else {
      t.equal(env.NATS_USER, s.name, `${s.name}: NATS_USER is its NATS user`)
      t.match(String(env.NATS_PASSWORD), new RegExp(`^\\$\\{${variable}\\b`), `${s.name}: NATS_PASSWORD is ${variable}`)
    }
    t.match(String(services.nats?.environment?.[variable]), new RegExp(`^\\$\\{${variable}\\b`), `the NATS server gets ${variable}`)
    t.ok(envExample.get(variable), `${variable} is in .env.example`)
  }
  t.equal(allowsAnonymous, false, 'the server refuses connections without credentials (permissions.json)')
})

t.test('each database-owning service waits for its one-shot migration, and everything waits for healthy dependencies', async (t) => {
  for (const s of deployed.filter((s) => s.schema !== undefined)) {
    const m = services[`${s.name}-migrate`]
    t.ok(m, `${s.name}-migrate exists`)
    t.same(m?.command, ['node', 'dist/db/migrate.js'], `${s.name}-migrate runs the migration entry point`)
    t.equal(m?.image, services[s.name]?.image, `${s.name}-migrate uses the service's image`)
    t.equal(m?.restart, 'no', `${s.name}-migrate runs once`)
    t.equal(m?.depends_on?.postgres?.condition, 'service_healthy', `${s.name}-migrate waits for Postgres`)
    t.equal(services[s.name]?.depends_on?.[`${s.name}-migrate`]?.condition, 'service_completed_successfully', `${s.name} waits for its migrations`)
  }
  for (const [name, c] of Object.entries(services)) {
    for (const [dep, cond] of Object.entries((c.depends_on ?? {}) as Record<string, { condition: string }>)) {
      t.ok(services[dep], `${name} depends on ${dep}, which exists`)
      const expected = dep.endsWith('-migrate') ? 'service_completed_successfully' : 'service_healthy'
      t.equal(cond.condition, expected, `${name} waits for ${dep}: ${expected}`)
      if (expected === 'service_healthy') t.ok(services[dep]?.healthcheck, `${dep} has a health check to wait for`)
    }
  }
  for (const u of deployed.filter((u) => u.upstreamVar !== undefined)) {
    t.equal(services.gateway?.depends_on?.[u.name]?.condition, 'service_healthy', `the gateway starts after ${u.name} is ready`)
  }
})

t.test('only the gateway is published, and the data that must survive lives in volumes', async (t) => {
  const published = Object.entries(services).filter(([, c]) => c.ports !== undefined && c.profiles === undefined).map(([n]) => n)
  t.same(published, ['gateway'])
  // The simulator (dev profile) serves consent pages to the browser: published on loopback only.
  t.same(services['provider-sim']?.ports, ['127.0.0.1:3100:3100'], 'the dev simulator on the host loopback only')
  const mounts = (name: string) => ((services[name]?.volumes ?? []) as string[]).map((v) => v.split(':') as [string, string?])
  t.ok(mounts('postgres').some(([src, dst]) => src in compose.volumes && dst === '/var/lib/postgresql/data'), 'Postgres data in a volume')
  t.ok(mounts('nats').some(([src, dst]) => src in compose.volumes && dst === '/data'), 'JetStream data in a volume')
  t.ok(mounts('redis').some(([src, dst]) => src in compose.volumes && dst === '/data'), 'Redis data (sessions) in a volume')
  t.ok(mounts('nats').some(([src]) => src === './infra/nats/nats.conf'), 'NATS runs the generated configuration')
})

t.test('.env.example sets every variable the file requires, and no real secret', async (t) => {
  const text = readRepoFile('docker-compose.yml')
  for (const m of text.matchAll(/\$\{(\w+):\?/g)) t.ok(envExample.get(m[1]!), `${m[1]} is in .env.example`)
  for (const [k, v] of envExample) {
    if (/SECRET|KEYS/.test(k) && !/^pulsesim/.test(v)) t.match(v, /^(pulse-dev-|dev:)/, `${k} holds the public development value`)
  }
  t.ok(readRepoFile('.gitignore').split('\n').includes('.env'), '.env is never committed')
})
