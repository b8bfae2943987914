import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Teardown } from './isolation.js'
import { freePort } from './ports.js'

const answers = (port: number) => new Promise<boolean>((resolve) => {
  const socket = net.connect({ host: '127.0.0.1', port })
  socket.once('connect', () => { socket.destroy(); resolve(true) })
  socket.once('error', () => resolve(false))
})

/** Every server any cluster of this test process started, killed (with its process group) when the process exits. */
const running = new Set<ChildProcess>()
const killGroup = (child: ChildProcess) => {
  try { process.kill(-child.pid!, 'SIGKILL') } catch { /* already gone */ }
}
process.once('exit', () => { for (const child of running) killGroup(child) })

/*
 * A test process can die without running any handler (tap's timeout, a SIGKILL), and nats-server
 * has no option to follow its parent. So each server runs under a small shell, in its own process
 * group, that holds the read end of a pipe from this process: when this process dies, however, the
 * pipe closes and the shell kills the server. The shell exits when the server does, so an exit is
 * seen as the server's.
 */
// (A background job's standard input is /dev/null unless redirected: the pipe is kept as fd 3.)
const GUARDED_SERVER = 'exec 3<&0; nats-server -c "$1" & server=$!; (read -r _ignored <&3; kill -9 "$server" 2>/dev/null) & wait "$server"'

export interface NatsClusterNode {
  /** The server's name (`server_name`), as JetStream's stream and consumer info name it. */
  name: string
  url: string
  port: number
}

/**
 * A JetStream cluster of the test's own: `size` nats-server processes on free ports, with routes to
 * each other and their own store folders, that the test may kill -9 and start again one by one
 * (same port, same store). Stopped and removed when the test ends, failed or not; a test process
 * that dies kills them on its way out.
 */
export class NatsCluster {
  private readonly children = new Map<number, ChildProcess>()

  private constructor (readonly nodes: NatsClusterNode[], private readonly configs: string[]) {}

  static async start (t: Teardown, { size = 3, name = 'pulse-test' }: { size?: number, name?: string } = {}): Promise<NatsCluster> {
    const dir = mkdtempSync(path.join(tmpdir(), 'pulse-nats-cluster-'))
    const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort() })))
    const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`)
    const nodes: NatsClusterNode[] = []
    const configs: string[] = []
    ports.forEach((p, i) => {
      const node = `n${i + 1}`
      const store = path.join(dir, node)
      mkdirSync(store)
      const config = path.join(dir, `${node}.conf`)
      writeFileSync(config, [
        `server_name: ${node}`,
        `listen: 127.0.0.1:${p.client}`,
        `jetstream { store_dir: ${JSON.stringify(store)} }`,
        `cluster { name: ${name}, listen: 127.0.0.1:${p.route}, routes: [${routes.filter((_r, j) => j !== i).join(', ')}] }`,
        ''
      ].join('\n'))
      nodes.push({ name: node, url: `nats://127.0.0.1:${p.client}`, port: p.client })
      configs.push(config)
    })
    const cluster = new NatsCluster(nodes, configs)
    t.teardown(() => {
      cluster.stopAll()
      rmSync(dir, { recursive: true, force: true })
    })
    await Promise.all(nodes.map(async (_n, i) => { await cluster.start(i) }))
    return cluster
  }

  /** Every server's URL, comma-separated, as NATS_URL lists a cluster. */
  get url (): string {
    return this.nodes.map((n) => n.url).join(',')
  }

  indexOf (name: string): number {
    const i = this.nodes.findIndex((n) => n.name === name)
    if (i === -1) throw new Error(`no server named ${name} in this cluster`)
    return i
  }

  /** Starts server `i` (again: same port, same store) and waits until it takes connections. */
  async start (i: number): Promise<void> {
    if (this.children.has(i)) throw new Error(`server ${this.nodes[i]!.name} is running`)
    const child = spawn('sh', ['-c', GUARDED_SERVER, 'sh', this.configs[i]!], { stdio: ['pipe', 'ignore', 'ignore'], detached: true })
    this.children.set(i, child)
    running.add(child)
    const failed = new Promise<never>((_resolve, reject) => {
      child.once('error', (error) => { reject(new Error(`could not start nats-server: ${error.message}`)) })
      child.once('exit', (code, signal) => { running.delete(child); reject(new Error(`nats-server ${this.nodes[i]!.name} exited (${code ?? signal}); is it on PATH?`)) })
    })
    failed.catch(() => {}) // only raced below; after start-up an exit is the test's own doing
    const end = Date.now() + 15_000
    while (!(await Promise.race([answers(this.nodes[i]!.port), failed]))) {
      if (Date.now() > end) throw new Error(`nats-server ${this.nodes[i]!.name} did not take connections on ${this.nodes[i]!.port}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** As a crash: SIGKILL, no chance to flush or hand anything over. Resolves once the process is gone. */
  async kill (i: number): Promise<void> {
    const child = this.children.get(i)
    if (child === undefined) return
    this.children.delete(i)
    const exited = child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
    killGroup(child)
    await exited
    running.delete(child)
  }

  private stopAll (): void {
    for (const [i, child] of this.children) {
      killGroup(child)
      running.delete(child)
      this.children.delete(i)
    }
  }
}
