import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Teardown } from '@pulse/testing'
import { answers } from '../../scripts/stack.mjs'
import { freePort } from './helper.js'

/**
 * A Redis or NATS server of the test's own, on a free port, that the test may kill -9 and start
 * again on the same port (and, for NATS, the same JetStream store) without touching the servers
 * other tests use.
 */
export class OwnServer {
  private child: ChildProcess | undefined
  private constructor (private readonly command: string, private readonly args: string[], readonly url: string, private readonly port: number) {}

  static async redis (t: Teardown): Promise<OwnServer> {
    const port = await freePort()
    const server = new OwnServer('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], `redis://127.0.0.1:${port}`, port)
    await server.start()
    t.teardown(() => server.kill())
    return server
  }

  static async nats (t: Teardown): Promise<OwnServer> {
    const port = await freePort()
    const store = mkdtempSync(path.join(tmpdir(), 'pulse-e2e-nats-'))
    const server = new OwnServer('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], `nats://127.0.0.1:${port}`, port)
    await server.start()
    t.teardown(() => { server.kill(); rmSync(store, { recursive: true, force: true }) })
    return server
  }

  async start (): Promise<void> {
    this.child = spawn(this.command, this.args, { stdio: 'ignore' })
    const end = Date.now() + 15_000
    while (Date.now() < end) {
      if (await answers(this.url, 200)) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`${this.command} did not start on port ${this.port}`)
  }

  /** As a crash: SIGKILL, no chance to flush or say goodbye. */
  kill (): void {
    this.child?.kill('SIGKILL')
    this.child = undefined
  }
}
