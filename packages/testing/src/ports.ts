import { randomInt } from 'node:crypto'
import net from 'node:net'

/**
 * Ports are drawn below the kernel's ephemeral range (32768–60999 on Linux), where the system also
 * picks the source port of every outgoing connection: a port taken with `listen(0)` and released
 * could be handed to some connection before the test's server binds it (EADDRINUSE, seen with
 * many processes connecting at once). Below that range only a listener can hold a port.
 */
const LOW = 20_000
const HIGH = 32_000
/** Handed out by this process already: not handed out twice, even before their servers bind. */
const given = new Set<number>()

/** Whether a server could listen on `port` (of 127.0.0.1) right now. */
export async function portIsFree (port: number): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const server = net.createServer().once('error', () => { resolve(false) }).listen(port, '127.0.0.1', () => {
      server.close(() => { resolve(true) })
    })
  })
}

/** A port nothing listens on right now: for a server to start on, or a service that is down. */
export async function freePort (): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = randomInt(LOW, HIGH)
    if (given.has(port)) continue
    if (await portIsFree(port)) {
      given.add(port)
      return port
    }
  }
  throw new Error(`no free port found between ${LOW} and ${HIGH}`)
}
