import net from 'node:net'

/** A port nothing listens on right now (the system picks it): for a server to start on, or a service that is down. */
export function freePort (): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => { resolve(port) })
    })
  })
}
