import net from 'node:net'

/** Where the test servers are: from the environment, the local defaults, or testcontainers. */
export interface TestInfra {
  databaseUrl: string
  redisUrl: string
  natsUrl: string
}

const LOCAL: TestInfra = {
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: 'redis://127.0.0.1:6379',
  natsUrl: 'nats://127.0.0.1:4222'
}

function answers (url: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) })
    socket.setTimeout(500)
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => { socket.destroy(); resolve(false) })
  })
}

let cached: Promise<TestInfra> | undefined

/**
 * PULSE_TEST_DATABASE_URL / PULSE_TEST_REDIS_URL / PULSE_TEST_NATS_URL when set (CI here); else
 * servers already answering on their standard local ports; else containers started with
 * testcontainers and reused by every test file of the run (laptops, GitHub Actions).
 */
export function testInfra (): Promise<TestInfra> {
  cached ??= resolveInfra()
  return cached
}

async function resolveInfra (): Promise<TestInfra> {
  const env = process.env
  const fromEnv: Partial<TestInfra> = {
    databaseUrl: env.PULSE_TEST_DATABASE_URL,
    redisUrl: env.PULSE_TEST_REDIS_URL,
    natsUrl: env.PULSE_TEST_NATS_URL
  }
  const result = { ...fromEnv } as Partial<TestInfra>
  const missing = (Object.keys(LOCAL) as (keyof TestInfra)[]).filter((k) => result[k] === undefined)
  for (const key of missing) {
    if (await answers(LOCAL[key])) result[key] = LOCAL[key]
  }
  const stillMissing = missing.filter((k) => result[k] === undefined)
  if (stillMissing.length > 0) Object.assign(result, await startContainers(stillMissing))
  return result as TestInfra
}

async function startContainers (which: (keyof TestInfra)[]): Promise<Partial<TestInfra>> {
  // Loaded only when needed: machines that run the servers never touch Docker.
  const { GenericContainer, Wait } = await import('testcontainers')
  const out: Partial<TestInfra> = {}
  if (which.includes('databaseUrl')) {
    const pg = await new GenericContainer('postgres:17-alpine').withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432).withReuse().withWaitStrategy(Wait.forLogMessage(/ready to accept connections/, 2)).start()
    out.databaseUrl = `postgres://postgres@${pg.getHost()}:${pg.getMappedPort(5432)}/postgres`
  }
  if (which.includes('redisUrl')) {
    const redis = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).withReuse().start()
    out.redisUrl = `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`
  }
  if (which.includes('natsUrl')) {
    const nats = await new GenericContainer('nats:2.11-alpine').withCommand(['-js']).withExposedPorts(4222).withReuse()
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/)).start()
    out.natsUrl = `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`
  }
  return out
}
