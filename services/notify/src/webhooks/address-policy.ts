import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

/** Which webhook targets may be reached (server-side request forgery). */
export interface AddressPolicy {
  /** Local use and tests: `http` and loopback, private and link-local addresses too. */
  allowPrivate: boolean
  /** `http` URLs too (with allowPrivate; tests also set it alone). */
  allowHttp?: boolean
  /** Ranges reachable even though they are not public (NOTIFY_WEBHOOKS_ALLOWED_CIDRS: an internal receiver the operators trust). */
  allowedCidrs?: readonly string[]
  /** How a host name becomes addresses; the system resolver unless a test gives another. */
  resolve?: (host: string) => Promise<{ address: string, family: number }[]>
}

export class RefusedTargetError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'RefusedTargetError'
  }
}

export const systemResolve = async (host: string) => await lookup(host, { all: true, verbatim: true })

/**
 * Only globally routable unicast addresses: ipaddr.js names every special range (loopback, private,
 * link-local — 169.254.169.254 the cloud metadata service among them —, carrier-grade NAT, unique
 * local, multicast, reserved…), and anything but `unicast` is refused. An IPv4-mapped IPv6 address is
 * judged as the IPv4 address it is.
 */
export function isPublicAddress (address: string): boolean {
  const parsed = parseAddress(address)
  return parsed !== undefined && parsed.range() === 'unicast'
}

function parseAddress (address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!ipaddr.isValid(address)) return undefined
  const parsed = ipaddr.parse(address)
  return parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed
}

/** Whether the policy lets a connection go to this address. */
export function isAllowedAddress (address: string, policy: AddressPolicy): boolean {
  if (policy.allowPrivate || isPublicAddress(address)) return true
  const parsed = parseAddress(address)
  if (parsed === undefined) return false
  return (policy.allowedCidrs ?? []).some((cidr) => {
    const range = ipaddr.parseCIDR(cidr)
    return range[0].kind() === parsed.kind() && parsed.match(range)
  })
}

/** A NOTIFY_WEBHOOKS_ALLOWED_CIDRS entry's problem, or undefined when it is a CIDR range. */
export function cidrProblem (cidr: string): string | undefined {
  try { ipaddr.parseCIDR(cidr); return undefined } catch { return `"${cidr}" is not a CIDR range such as 10.1.2.0/24` }
}

/** The host of a URL as an address when it is one (IPv6 without its brackets). */
function literalAddress (hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
  return isIP(bare) !== 0 ? bare : undefined
}

/** Parses a webhook URL and checks its form: https (http only when private targets are allowed), no credentials. */
export function parseTargetUrl (value: string, policy: AddressPolicy): URL {
  let url: URL
  try { url = new URL(value) } catch { throw new RefusedTargetError('not a URL') }
  const http = policy.allowPrivate || policy.allowHttp === true
  const schemes = http ? ['https:', 'http:'] : ['https:']
  if (!schemes.includes(url.protocol)) throw new RefusedTargetError(http ? 'must be an http or https URL' : 'must be an https URL')
  if (url.username !== '' || url.password !== '') throw new RefusedTargetError('must not hold credentials')
  return url
}

/** Every address the URL's host is (after DNS resolution) must be public; throws RefusedTargetError naming the first that is not. */
export async function checkTarget (value: string, policy: AddressPolicy): Promise<URL> {
  const url = parseTargetUrl(value, policy)
  if (policy.allowPrivate) return url
  const literal = literalAddress(url.hostname)
  const addresses = literal !== undefined ? [literal] : await resolveAll(url.hostname, policy)
  for (const address of addresses) {
    if (!isAllowedAddress(address, policy)) throw new RefusedTargetError(`${url.hostname} is ${address === url.hostname ? 'a' : `${address}, a`} loopback, private, link-local or reserved address`)
  }
  return url
}

async function resolveAll (host: string, policy: AddressPolicy): Promise<string[]> {
  let answers: { address: string }[]
  try {
    answers = await (policy.resolve ?? systemResolve)(host)
  } catch {
    throw new RefusedTargetError(`${host} does not resolve`)
  }
  if (answers.length === 0) throw new RefusedTargetError(`${host} does not resolve`)
  return answers.map((a) => a.address)
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | { address: string, family: number }[], family?: number) => void

/**
 * A `lookup` for node's http/https: resolves the name once and connects only to addresses the
 * policy allows, so a name that resolves to a public address when checked and a private one when
 * connecting (DNS rebinding) is refused too.
 */
export function guardedLookup (policy: AddressPolicy) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    (policy.resolve ?? systemResolve)(hostname).then((answers) => {
      const refused = answers.find((a) => !isAllowedAddress(a.address, policy))
      if (answers.length === 0) throw new RefusedTargetError(`${hostname} does not resolve`)
      if (refused !== undefined) throw new RefusedTargetError(`${hostname} is ${refused.address}, a loopback, private, link-local or reserved address`)
      if (options.all === true) callback(null, answers)
      else callback(null, answers[0]!.address, answers[0]!.family)
    }).catch((error: unknown) => { callback(error as NodeJS.ErrnoException, '') })
  }
}
