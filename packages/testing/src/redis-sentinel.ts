import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import type { Teardown } from './isolation.js'
import { freePort } from './ports.js'

export interface RedisSentinelSetOptions {
  /** The primary's name in the Sentinels' configuration. */
  name?: string
  /** How long a primary must not answer before a Sentinel calls it down (`down-after-milliseconds`). */
  downAfterMs?: number
  /** `failover-timeout`: also how long before the same primary may be failed over again. */
  failoverTimeoutMs?: number
}

/** One `redis-server` process (a data node or, with `--sentinel`, a Sentinel) on its own port. */
class RedisProcess {
  child: ChildProcess | undefined
  constructor (readonly port: number, private readonly args: string[]) {}

  async start (): Promise<void> {
    this.child = spawn('redis-server', this.args, { stdio: 'ignore' })
    const client = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 500 })
    client.on('error', () => {})
    const end = Date.now() + 15_000
    try {
      while (Date.now() < end) {
        try {
          if (client.status !== 'ready') await client.connect()
          if (await client.ping() === 'PONG') return
        } catch { client.disconnect() }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    } finally {
      client.disconnect()
    }
    throw new Error(`redis-server ${this.args.join(' ')} did not answer on port ${this.port}`)
  }

  /** As a crash: SIGKILL, no chance to flush or hand over. */
  kill (): void {
    this.child?.kill('SIGKILL')
    this.child = undefined
  }
}

/**
 * A Redis primary, one replica and three Sentinels of the test's own (real `redis-server`
 * processes on free ports, their files in a temporary folder), so that a test can kill the primary
 * and watch a real failover without touching the Redis other tests use. Everything is killed and
 * removed at the end of the test.
 */
export class RedisSentinelSet {
  private constructor (
    private readonly dir: string,
    readonly name: string,
    readonly nodes: RedisProcess[],
    readonly sentinelNodes: RedisProcess[]
  ) {}

  static async start (t: Teardown, { name = 'mymaster', downAfterMs = 1000, failoverTimeoutMs = 5000 }: RedisSentinelSetOptions = {}): Promise<RedisSentinelSet> {
    const dir = mkdtempSync(path.join(tmpdir(), 'pulse-sentinel-'))
    const set = new RedisSentinelSet(dir, name, [], [])
    t.teardown(() => set.stop())
    const base = (port: number, folder: string) => [`port ${port}`, 'bind 127.0.0.1', `dir ${folder}`, 'save ""', 'appendonly no']
    const primaryPort = await freePort()
    const replicaPort = await freePort()
    for (const [i, port, extra] of [[0, primaryPort, []], [1, replicaPort, [`replicaof 127.0.0.1 ${primaryPort}`]]] as const) {
      const folder = mkdtempSync(path.join(dir, `node${i}-`))
      const file = path.join(dir, `node${i}.conf`)
      writeFileSync(file, [...base(port, folder), ...extra].join('\n') + '\n')
      const node = new RedisProcess(port, [file])
      set.nodes.push(node)
      await node.start()
    }
    for (let i = 0; i < 3; i++) {
      const port = await freePort()
      const folder = mkdtempSync(path.join(dir, `sentinel${i}-`))
      const file = path.join(dir, `sentinel${i}.conf`)
      // Sentinel rewrites its own configuration file, so each has a writable one.
      writeFileSync(file, [
        `port ${port}`, 'bind 127.0.0.1', `dir ${folder}`,
        `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
        `sentinel parallel-syncs ${name} 1`
      ].join('\n') + '\n')
      const sentinel = new RedisProcess(port, [file, '--sentinel'])
      set.sentinelNodes.push(sentinel)
      await sentinel.start()
    }
    await set.waitForReplication()
    return set
  }

  /** REDIS_SENTINELS for the services: `127.0.0.1:<port>,…`. */
  get sentinels (): string {
    return this.sentinelNodes.map((s) => `127.0.0.1:${s.port}`).join(',')
  }

  /** The port of the server the Sentinels name as primary now (asks the first that answers). */
  async primaryPort (): Promise<number> {
    for (const sentinel of this.sentinelNodes) {
      const client = new Redis({ port: sentinel.port, host: '127.0.0.1', retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 500, commandTimeout: 500 })
      client.on('error', () => {})
      try {
        const [, port] = await client.call('SENTINEL', 'get-master-addr-by-name', this.name) as [string, string]
        return Number(port)
      } catch {
        // the next Sentinel
      } finally {
        client.disconnect()
      }
    }
    throw new Error('no Sentinel answers')
  }

  /** A direct client of the current primary (not through Sentinel). */
  async primary (): Promise<Redis> {
    const client = new Redis({ port: await this.primaryPort(), host: '127.0.0.1', retryStrategy: () => null, maxRetriesPerRequest: 0 })
    client.on('error', () => {})
    return client
  }

  /** Waits until the replica has every write the primary has taken so far (WAIT 1). */
  async waitForReplication (timeoutMs = 10_000): Promise<void> {
    const client = await this.primary()
    try {
      const replicas = await client.call('WAIT', '1', String(timeoutMs)) as number
      if (replicas < 1) throw new Error(`the replica did not catch up within ${timeoutMs} ms`)
    } finally {
      client.disconnect()
    }
  }

  /** kill -9 of whichever server is primary now; answers its port. */
  async killPrimary (): Promise<number> {
    const port = await this.primaryPort()
    const node = this.nodes.find((n) => n.port === port)
    if (node === undefined) throw new Error(`the primary on port ${port} is not one of this set's servers`)
    node.kill()
    return port
  }

  stop (): void {
    for (const p of [...this.sentinelNodes, ...this.nodes]) p.kill()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
