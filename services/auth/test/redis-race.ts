import type { Redis } from 'ioredis'

/**
 * A client that runs `between` right after its first GET of `key` has read the value: a race
 * (a logout between a session's read and its write back) made to happen every time. `ran()` says
 * whether it did.
 */
export function interleaveAfterGet (client: Redis, key: string, between: () => Promise<unknown>): { client: Redis, ran: () => boolean } {
  let interleaved = false
  const racing = new Proxy(client, {
    get (target, property, receiver) {
      if (property !== 'get') return Reflect.get(target, property, receiver) as unknown
      return async (read: string) => {
        const value = await target.get(read)
        if (read === key && !interleaved) {
          interleaved = true
          await between()
        }
        return value
      }
    }
  })
  return { client: racing, ran: () => interleaved }
}
