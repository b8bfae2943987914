import net from 'node:net'

/**
 * A TCP proxy in front of a real server, so that a test can make Postgres, Redis or NATS
 * unreachable for one service (and bring it back) without stopping the server other tests use.
 */
export class TcpProxy {
  private server: net.Server | undefined
  private readonly sockets = new Set<net.Socket>()
  /** Client and upstream socket of every open connection, to stop and start forwarding. */
  private readonly pairs = new Set<[net.Socket, net.Socket]>()
  private stalled = false
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
      const pair: [net.Socket, net.Socket] = [client, upstream]
      this.sockets.add(client).add(upstream)
      this.pairs.add(pair)
      const drop = () => { client.destroy(); upstream.destroy(); this.sockets.delete(client); this.sockets.delete(upstream); this.pairs.delete(pair) }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
      if (this.stalled) hold(pair)
      else forward(pair)
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

  /**
   * Stops forwarding in both directions while every connection stays open and new ones are still
   * accepted: a server that stops answering without closing its sockets (a stalled network, a
   * stuck process). What is sent meanwhile waits, as in the kernel's buffers, and is delivered by
   * `resume()`, so the protocol's stream stays intact.
   */
  stall (): void {
    if (this.stalled) return
    this.stalled = true
    for (const pair of this.pairs) hold(pair)
  }

  /** Forwards again after `stall()`, starting with what waited. */
  resume (): void {
    if (!this.stalled) return
    this.stalled = false
    for (const pair of this.pairs) forward(pair)
  }

  /** Cuts every connection and refuses new ones, as if the server had gone down. */
  async cut (): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    this.pairs.clear()
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

function forward ([client, upstream]: [net.Socket, net.Socket]): void {
  client.pipe(upstream)
  upstream.pipe(client)
}

function hold ([client, upstream]: [net.Socket, net.Socket]): void {
  client.unpipe(upstream)
  upstream.unpipe(client)
  client.pause()
  upstream.pause()
}
