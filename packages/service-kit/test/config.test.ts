import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { DEVELOPMENT_SECRETS } from '../src/index.js'
import { loadExampleConfig } from './fixtures/example-service.js'

const service = fileURLToPath(new URL('./fixtures/example-service.ts', import.meta.url))

function startWith (env: Record<string, string>): Promise<{ code: number | null, stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import=tsx', '--conditions=pulse-source', service], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe']
    })
    let stderr = ''
    child.stderr.on('data', (d) => { stderr += String(d) })
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stderr }) })
  })
}

t.test('a malformed URL stops start-up with the variable named', async (t) => {
  const { code, stderr } = await startWith({ DATABASE_URL: 'not a url' })
  t.equal(code, 1)
  t.match(stderr, /DATABASE_URL must be a URL/)
})

t.test('a missing required variable stops start-up with the variable named', async (t) => {
  const { loadConfig } = await import('../src/index.js')
  const Type = (await import('typebox')).default
  const err = t.throws(() => loadConfig({ API_KEY: Type.String({ minLength: 1 }) }, {})) as Error
  t.match(err.message, /API_KEY is required but not set/)
  const { code, stderr } = await startWith({ PORT: 'eighty' })
  t.equal(code, 1)
  t.match(stderr, /PORT must be integer/)
})

t.test('production refuses the development secrets', async (t) => {
  const err = t.throws(() => loadExampleConfig({ NODE_ENV: 'production' })) as Error
  t.match(err.message, /IDENTITY_SECRET still has its development value/)
  const ok = loadExampleConfig({ NODE_ENV: 'production', IDENTITY_SECRET: 'x'.repeat(40) })
  t.equal(ok.IDENTITY_SECRET, 'x'.repeat(40))
  t.not(ok.IDENTITY_SECRET, DEVELOPMENT_SECRETS.IDENTITY_SECRET)
})

t.test('numbers are converted and defaults applied', async (t) => {
  const config = loadExampleConfig({ PORT: '4321', DATABASE_POOL_MAX: '3' })
  t.equal(config.PORT, 4321)
  t.equal(config.DATABASE_POOL_MAX, 3)
  t.equal(config.DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/pulse')
})

t.test('NATS_USER and NATS_PASSWORD go into NATS_URL (percent-encoded), and half a login stops start-up', async (t) => {
  const { loadConfig, NatsConfigProperties } = await import('../src/index.js')
  const config = loadConfig(NatsConfigProperties, { NATS_URL: 'nats://nats:4222', NATS_USER: 'twitch-ingest', NATS_PASSWORD: 'a/b+c=d@e:f' })
  t.equal(config.NATS_URL, 'nats://twitch-ingest:a%2Fb+c%3Dd%40e%3Af@nats:4222')
  t.equal(new URL(config.NATS_URL).hostname, 'nats', 'a password with URL characters leaves the address intact')
  t.equal(loadConfig(NatsConfigProperties, {}).NATS_URL, 'nats://127.0.0.1:4222', 'without them, the URL as it is')
  t.equal(loadConfig(NatsConfigProperties, { NATS_URL: 'nats://u:p@nats:4222' }).NATS_URL, 'nats://u:p@nats:4222', 'credentials in the URL alone are kept')
  t.throws(() => loadConfig(NatsConfigProperties, { NATS_USER: 'auth' }), /NATS_USER is set but NATS_PASSWORD is not/)
  t.throws(() => loadConfig(NatsConfigProperties, { NATS_PASSWORD: 'x' }), /NATS_PASSWORD is set but NATS_USER is not/)
  t.throws(() => loadConfig(NatsConfigProperties, { NATS_URL: 'nats://u:p@nats:4222', NATS_USER: 'auth', NATS_PASSWORD: 'x' }), /NATS_URL holds credentials and NATS_USER\/NATS_PASSWORD are set too/)
})

t.test('NATS_URL takes a comma-separated list of servers; NATS_USER/NATS_PASSWORD go into each; NATS_STREAM_REPLICAS is 1 to 5', async (t) => {
  const { loadConfig, NatsConfigProperties } = await import('../src/index.js')
  const list = 'nats://nats-0:4222, nats://nats-1:4222,nats://nats-2:4222'
  t.equal(loadConfig(NatsConfigProperties, { NATS_URL: list }).NATS_URL, list, 'a list without credentials is kept as it is')
  t.equal(loadConfig(NatsConfigProperties, { NATS_URL: list, NATS_USER: 'auth', NATS_PASSWORD: 'p@ss' }).NATS_URL,
    'nats://auth:p%40ss@nats-0:4222,nats://auth:p%40ss@nats-1:4222,nats://auth:p%40ss@nats-2:4222', 'the login is written into every server')
  t.throws(() => loadConfig(NatsConfigProperties, { NATS_URL: 'nats://nats-0:4222,http://nats-1:4222' }), /NATS_URL must be a URL of the form nats:\/\/host:port, or several separated by commas \(got "http:\/\/nats-1:4222"\)/, 'each entry is checked')
  t.throws(() => loadConfig(NatsConfigProperties, { NATS_URL: 'nats://nats-0:4222,' }), /NATS_URL must be a URL/, 'an empty entry is refused')
  t.throws(() => loadConfig(NatsConfigProperties, { NATS_URL: 'nats://nats-0:4222,nats://u:p@nats-1:4222', NATS_USER: 'auth', NATS_PASSWORD: 'x' }), /NATS_URL holds credentials and NATS_USER\/NATS_PASSWORD are set too/)
  const production = { ...(await import('../src/index.js')).BaseConfigProperties, ...NatsConfigProperties }
  t.throws(() => loadConfig(production, { NODE_ENV: 'production', IDENTITY_SECRET: 'i'.repeat(40), NATS_URL: 'nats://a:b@nats-0:4222,nats://gateway:pulse-local-gateway@nats-1:4222' }), /NATS_URL holds a development password/, 'production checks the password of every entry')
  t.equal(loadConfig(NatsConfigProperties, {}).NATS_STREAM_REPLICAS, 1, 'one copy of each stream by default')
  t.equal(loadConfig(NatsConfigProperties, { NATS_STREAM_REPLICAS: '3' }).NATS_STREAM_REPLICAS, 3)
  for (const bad of ['0', '6', 'three']) t.throws(() => loadConfig(NatsConfigProperties, { NATS_STREAM_REPLICAS: bad }), /NATS_STREAM_REPLICAS/, `NATS_STREAM_REPLICAS=${bad} is refused`)
})

t.test('production refuses every secret setting that is any development value, or too short', async (t) => {
  const { loadConfig, NatsConfigProperties, SessionConfigProperties, DEVELOPMENT_VALUES } = await import('../src/index.js')
  const properties = { ...(await import('../src/index.js')).BaseConfigProperties, ...SessionConfigProperties, ...NatsConfigProperties }
  const good = { NODE_ENV: 'production', IDENTITY_SECRET: 'i'.repeat(40), SESSION_SECRET: 's'.repeat(40) }
  t.ok(loadConfig(properties, good), 'real secrets pass')
  t.ok(loadConfig(properties, { ...good, NODE_ENV: 'development', NATS_USER: 'auth', NATS_PASSWORD: 'short' }), 'development takes anything')
  for (const setting of ['IDENTITY_SECRET', 'IDENTITY_SECRET_PREVIOUS', 'SESSION_SECRET', 'SESSION_SECRET_PREVIOUS', 'NATS_PASSWORD']) {
    const user = setting === 'NATS_PASSWORD' ? { NATS_USER: 'auth' } : {}
    for (const value of DEVELOPMENT_VALUES.filter((v) => v.length >= 32)) {
      t.throws(() => loadConfig(properties, { ...good, ...user, [setting]: value }), new RegExp(`${setting} (still has its development value|is \\(or lists\\) a development value)`), `${setting} = ${value}`)
    }
  }
  t.throws(() => loadConfig(properties, { ...good, NATS_USER: 'auth', NATS_PASSWORD: 'pulse-local-auth' }), /NATS_PASSWORD is \(or lists\) a development value/)
  t.throws(() => loadConfig(properties, { ...good, NATS_USER: 'auth', NATS_PASSWORD: 'a-short-password' }), /NATS_PASSWORD is too short for production \(at least 32 characters\)/)
  t.throws(() => loadConfig(properties, { ...good, NATS_URL: 'nats://gateway:pulse-local-gateway@nats:4222' }), /NATS_URL holds a development password/)
  t.ok(loadConfig(properties, { ...good, NATS_USER: 'auth', NATS_PASSWORD: 'n'.repeat(40) }))
  const err = t.throws(() => loadConfig(properties, { ...good, SESSION_SECRET_PREVIOUS: DEVELOPMENT_VALUES[0] })) as Error
  t.notMatch(err.message, DEVELOPMENT_VALUES[0]!, 'the message names the setting, not the value')
})

t.test('a configuration error never prints a password inside a URL', async (t) => {
  const { loadConfig, DatabaseConfigProperties, RedisConfigProperties, ConfigError, redactCredentials } = await import('../src/index.js')
  const properties = { ...DatabaseConfigProperties, ...RedisConfigProperties }
  for (const env of [
    { DATABASE_URL: 'postgres://pulse:hunter2-db-password@db.internal:notaport/pulse' },
    { DATABASE_URL: 'mysql://pulse:hunter2-db-password@db.internal/pulse' },
    { DATABASE_URL: 'postgres://pulse:hunter2 db"pass@word@db.internal:x/pulse' },
    { REDIS_URL: 'http://:hunter2-db-password@redis:6379' }
  ]) {
    const err = t.throws(() => loadConfig(properties, env)) as Error
    t.ok(err instanceof ConfigError, JSON.stringify(Object.keys(env)))
    t.notMatch(err.message, /hunter2/, err.message)
  }
  t.equal(redactCredentials('postgres://u:p@h/db and redis://:secret@r:6379'), 'postgres://***@h/db and redis://***@r:6379')
  t.notMatch(new ConfigError(['X_URL is wrong: postgres://u:sekrit@h/db']).message, /sekrit/, 'whatever a service reports')
})

t.test('REDIS_SENTINELS: a host:port list, refused by name when malformed; the URL then gives only the login', async (t) => {
  const { loadConfig, RedisConfigProperties, ConfigError, redisConnectionOf } = await import('../src/index.js')
  const config = loadConfig(RedisConfigProperties, { REDIS_URL: 'redis://:pw@ignored:6379/2', REDIS_SENTINELS: 'sentinel-0.redis:26379, sentinel-1.redis:26379,[::1]:26380' })
  t.same(redisConnectionOf(config), {
    url: 'redis://:pw@ignored:6379/2',
    sentinels: [{ host: 'sentinel-0.redis', port: 26379 }, { host: 'sentinel-1.redis', port: 26379 }, { host: '::1', port: 26380 }],
    sentinelName: 'mymaster',
    sentinelPassword: undefined
  })
  t.same(redisConnectionOf(loadConfig(RedisConfigProperties, {})).sentinels, [], 'unset: the URL alone')
  for (const bad of ['sentinel-0', 'a:26379,', 'a:b', 'a:26379;b:26379', 'redis://a:26379']) {
    const err = t.throws(() => loadConfig(RedisConfigProperties, { REDIS_SENTINELS: bad })) as Error
    t.ok(err instanceof ConfigError && /REDIS_SENTINELS/.test(err.message), `${bad}: ${err.message}`)
  }
  // An empty variable counts as unset.
  t.equal(loadConfig(RedisConfigProperties, { REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: '' }).REDIS_SENTINEL_NAME, 'mymaster')
})
