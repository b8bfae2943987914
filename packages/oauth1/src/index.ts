import { createHmac, randomBytes } from 'node:crypto'

/**
 * OAuth 1.0a request signing (RFC 5849) with HMAC-SHA1, as X requires it (docs/providers.md §2.2).
 * Section numbers below are RFC 5849's.
 */

/** A name/value pair, as sent (not encoded). Names may repeat. */
export type Param = readonly [string, string]

/** Parameters as an object (an array value repeats the name), pairs, or URLSearchParams. */
export type Params = Readonly<Record<string, string | readonly string[] | undefined>> | Iterable<Param> | URLSearchParams

/**
 * RFC 3986 percent-encoding (§3.6): every byte of the UTF-8 form except the unreserved
 * `A-Z a-z 0-9 - . _ ~` becomes `%XX` with upper-case hex; a space is `%20`, never `+`.
 * `encodeURIComponent` leaves `! * ' ( )` as they are, which X then refuses with "Could not
 * authenticate you" (docs/providers.md §2.1), so those are encoded here too.
 */
export function percentEncode (value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function pairsOf (params: Params | undefined): Param[] {
  if (params === undefined) return []
  if (params instanceof URLSearchParams) return [...params.entries()]
  if (Symbol.iterator in params) return [...(params as Iterable<Param>)].map(([k, v]) => [k, v] as const)
  const pairs: Param[] = []
  for (const [name, value] of Object.entries(params as Record<string, string | readonly string[] | undefined>)) {
    if (value === undefined) continue
    for (const v of typeof value === 'string' ? [value] : value) pairs.push([name, v])
  }
  return pairs
}

/**
 * The base string URI (§3.4.1.2): scheme and host in lower case, the port only when it is not the
 * scheme's default, the path; no query, no fragment.
 */
export function baseStringUri (url: string | URL): string {
  const u = new URL(url)
  return `${u.protocol.toLowerCase()}//${u.host.toLowerCase()}${u.pathname === '' ? '/' : u.pathname}`
}

/**
 * The normalised parameter string (§3.4.1.3.2): every name and value percent-encoded, sorted by
 * name and then by value (byte order of the encoded strings), joined as `name=value` with `&`.
 */
export function normalizeParameters (params: Iterable<Param>): string {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  return [...params]
    .map(([name, value]) => [percentEncode(name), percentEncode(value)] as const)
    .sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]))
    .map(([name, value]) => `${name}=${value}`)
    .join('&')
}

/**
 * The signature base string (§3.4.1): `METHOD&enc(base string URI)&enc(normalised parameters)`.
 * `params` are all the signed parameters: the query, a form-encoded body and the `oauth_*`
 * protocol parameters except `oauth_signature`.
 */
export function signatureBaseString (method: string, url: string | URL, params: Iterable<Param>): string {
  return [method.toUpperCase(), percentEncode(baseStringUri(url)), percentEncode(normalizeParameters(params))].join('&')
}

/** HMAC-SHA1 key (§3.4.2): `enc(consumer secret)&enc(token secret)`; the `&` is there even without a token. */
export function signingKey (consumerSecret: string, tokenSecret = ''): string {
  return `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`
}

/** base64(HMAC-SHA1(key, base string)) (§3.4.2). */
export function hmacSha1Signature (baseString: string, key: string): string {
  return createHmac('sha1', key).update(baseString, 'utf8').digest('base64')
}

/** A nonce (§3.3): 32 random bytes, base64 without its non-alphanumeric characters, as X's own example does. */
export function generateNonce (): string {
  return randomBytes(32).toString('base64').replace(/[^A-Za-z0-9]/g, '')
}

export interface SignRequestOptions {
  method: string
  /** The full request URL: parameters in its query string are signed (§3.4.1.3.1). */
  url: string | URL
  /**
   * The parameters of an `application/x-www-form-urlencoded` body, which are signed. Other bodies
   * (JSON) carry no parameters and are not signed (docs/providers.md §2.2): leave this out for them.
   */
  params?: Params
  consumerKey: string
  consumerSecret: string
  /** The request or access token, when there is one. */
  token?: string
  tokenSecret?: string
  /** `oauth_callback` of the request_token step (§2.1). */
  callback?: string
  /** `oauth_verifier` of the access_token step (§2.3). */
  verifier?: string
  /** Fixed values, only to reproduce a known example; a fresh nonce and the current time otherwise. */
  nonce?: string
  /** Seconds since the epoch. */
  timestamp?: number
}

export interface SignedRequest {
  /** The `Authorization` header's value. */
  authorization: string
  baseString: string
  signature: string
  /** The protocol parameters sent in the header, `oauth_signature` included. */
  oauthParams: Record<string, string>
}

/** Signs a request and returns the pieces (the header, and the base string and signature for inspection). */
export function signRequestDetails (options: SignRequestOptions): SignedRequest {
  const oauthParams: Record<string, string> = {
    oauth_consumer_key: options.consumerKey,
    oauth_nonce: options.nonce ?? generateNonce(),
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
    oauth_version: '1.0'
  }
  if (options.token !== undefined && options.token !== '') oauthParams.oauth_token = options.token
  if (options.callback !== undefined) oauthParams.oauth_callback = options.callback
  if (options.verifier !== undefined) oauthParams.oauth_verifier = options.verifier

  const url = new URL(options.url)
  const signed: Param[] = [...url.searchParams.entries(), ...pairsOf(options.params), ...Object.entries(oauthParams)]
  const baseString = signatureBaseString(options.method, url, signed)
  const signature = hmacSha1Signature(baseString, signingKey(options.consumerSecret, options.tokenSecret))
  const header = { ...oauthParams, oauth_signature: signature }
  // §3.5.1: `OAuth name="value", …` with names and values percent-encoded.
  const authorization = `OAuth ${Object.entries(header).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${percentEncode(k)}="${percentEncode(v)}"`).join(', ')}`
  return { authorization, baseString, signature, oauthParams: header }
}

/** Signs a request: the value of its `Authorization` header. */
export function signRequest (options: SignRequestOptions): string {
  return signRequestDetails(options).authorization
}

/** The form-encoded text X answers the token steps with (`oauth_token=…&oauth_token_secret=…`), as an object. */
export function parseFormEncoded (text: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(text.trim()).entries())
}
