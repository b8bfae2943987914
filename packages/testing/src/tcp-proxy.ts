import net from 'node:net'

/**
 * A TCP proxy in front of a real server, so that a test can make Postgres, Redis or NATS
 * unreachable for one service (and bring it back) without stopping the server other tests use.
 */
export class TcpProxy {
  private server: net.Server | undefined
  private readonly sockets = new Set<net.Socket>()
  port = 0

  private constructor (private readonly target: { host: string, port: number }) {}

  static async start (targetUrl: string): Promise<TcpProxy> {
    const u = new URL(targetUrl)
    const proxy = new TcpProxy({ host: u.hostname, port: Number(u.port) })
    await proxy.listen(0)
    return proxy
  }

  /** The target URL rewritten to go through the proxy. */
  url (targetUrl: string): string {
    const u = new URL(targetUrl)
    u.hostname = '127.0.0.1'
    u.port = String(this.port)
    return u.toString().replace(/\/$/, targetUrl.endsWith('/') ? '/' : '')
  }

  private listen (port: number): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target)
      this.sockets.add(client).add(upstream)
      const drop = () => { client.destroy(); upstream.destroy(); this.sockets.delete(client); this.sockets.delete(upstream) }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
      client.pipe(upstream).pipe(client)
    })
    this.server = server
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as net.AddressInfo).port
        resolve()
      })
    })
  }

  /** Cuts every connection and refuses new ones, as if the server had gone down. */
  async cut (): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Accepts connections again on the same port. */
  async restore (): Promise<void> {
    if (this.server === undefined) await this.listen(this.port)
  }

  async stop (): Promise<void> {
    await this.cut()
  }
}
