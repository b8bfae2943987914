import { isIPv4, isIPv6 } from 'node:net'

/**
 * The rate-limit subject of a client address. An IPv4 address counts alone (an IPv4-mapped IPv6
 * address is the same client); an IPv6 address counts with its whole /64, because one subscriber is
 * usually given at least a /64 (RFC 6177) and can pick any address in it.
 */
export function rateLimitSubject (address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped?.[1] !== undefined && isIPv4(mapped[1])) return mapped[1]
  if (isIPv4(address)) return address
  const withoutZone = address.split('%')[0] ?? address
  if (isIPv6(withoutZone)) return `${expandIPv6(withoutZone).slice(0, 4).join(':')}::/64`
  return address
}

/** `2001:db8::1` → ['2001', 'db8', '0', '0', '0', '0', '0', '1'] (lower case, no leading zeros). */
function expandIPv6 (address: string): string[] {
  let text = address.toLowerCase()
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4?.[1] !== undefined) {
    const [a, b, c, d] = v4[1].split('.').map(Number) as [number, number, number, number]
    text = text.slice(0, -v4[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const fill = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0')
  return [...left, ...fill, ...right].map((group) => parseInt(group, 16).toString(16))
}
