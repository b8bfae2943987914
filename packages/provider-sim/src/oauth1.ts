import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * OAuth 1.0a signatures (RFC 5849 §3.4, HMAC-SHA1), as X checks them (docs/providers.md §2.2). Used
 * by the simulator to verify requests and by its tests to make them.
 */

/**
 * RFC 3986 §2.1 percent-encoding as RFC 5849 §3.6 requires: only `A-Z a-z 0-9 - . _ ~` stay as
 * they are; every other UTF-8 byte becomes `%XX` with upper-case hex. `encodeURIComponent` leaves
 * `!*'()` alone, which is the classic cause of X's "Could not authenticate you" (docs/providers.md §2.1).
 */
export function percentEncode (value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

export type Param = readonly [key: string, value: string]

/**
 * RFC 5849 §3.4.1.3.2: encode every key and value, sort by encoded key then encoded value (byte
 * order), join `k=v` pairs with `&`.
 */
export function normalizeParameters (params: readonly Param[]): string {
  return params
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

/**
 * RFC 5849 §3.4.1.2: scheme and host in lower case, the port only when it is not the scheme's
 * default, the path as sent; no query, no fragment.
 */
export function baseStringUri (url: string): string {
  const parsed = new URL(url)
  const scheme = parsed.protocol.toLowerCase()
  const defaultPort = (scheme === 'http:' && parsed.port === '80') || (scheme === 'https:' && parsed.port === '443')
  const port = parsed.port === '' || defaultPort ? '' : `:${parsed.port}`
  return `${scheme}//${parsed.hostname.toLowerCase()}${port}${parsed.pathname}`
}

/** RFC 5849 §3.4.1.1: METHOD & enc(base URI) & enc(normalized parameters): exactly two raw `&`. */
export function signatureBaseString (method: string, baseUri: string, params: readonly Param[]): string {
  return `${method.toUpperCase()}&${percentEncode(baseUri)}&${percentEncode(normalizeParameters(params))}`
}

/** RFC 5849 §3.4.2: the key always holds the `&`, even when the token secret is empty. */
export function signingKey (consumerSecret: string, tokenSecret = ''): string {
  return `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`
}

export function hmacSha1Signature (baseString: string, consumerSecret: string, tokenSecret = ''): string {
  return createHmac('sha1', signingKey(consumerSecret, tokenSecret)).update(baseString).digest('base64')
}

/** Constant-time comparison of two signatures. */
export function signaturesMatch (expected: string, given: string): boolean {
  const a = Buffer.from(expected)
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * The parameters of an `Authorization: OAuth …` header (RFC 5849 §3.5.1), decoded; `realm` is
 * dropped (it is not signed). Undefined when the header is not OAuth or is malformed, including a
 * parameter given twice.
 */
export function parseAuthorizationHeader (header: string | undefined): Map<string, string> | undefined {
  if (header === undefined) return undefined
  const match = /^OAuth\s+(.*)$/is.exec(header.trim())
  if (match === null) return undefined
  const params = new Map<string, string>()
  const pair = /\s*([^\s=,]+)\s*=\s*"([^"]*)"\s*(?:,|$)/y
  const text = match[1]!
  let position = 0
  while (position < text.length) {
    pair.lastIndex = position
    const found = pair.exec(text)
    if (found === null) return undefined
    position = pair.lastIndex
    let key: string
    let value: string
    try {
      key = decodeURIComponent(found[1]!)
      value = decodeURIComponent(found[2]!)
    } catch {
      return undefined
    }
    if (params.has(key)) return undefined
    if (key !== 'realm') params.set(key, value)
  }
  return params
}

/** `OAuth k="v", …` with keys and values percent-encoded (RFC 5849 §3.5.1). */
export function buildAuthorizationHeader (params: readonly Param[]): string {
  return `OAuth ${params.map(([k, v]) => `${percentEncode(k)}="${percentEncode(v)}"`).join(', ')}`
}

export interface SignRequestInput {
  method: string
  /** The full URL; its query parameters are signed. */
  url: string
  consumerKey: string
  consumerSecret: string
  token?: string
  tokenSecret?: string
  /** Form-encoded body parameters (signed); JSON bodies are never signed. */
  form?: readonly Param[]
  /** Extra `oauth_*` parameters, e.g. oauth_callback or oauth_verifier. */
  oauth?: readonly Param[]
  nonce: string
  /** Unix seconds. */
  timestamp: number
}

/** Signs a request and returns its Authorization header value. */
export function signRequest (input: SignRequestInput): string {
  const oauth: Param[] = [
    ['oauth_consumer_key', input.consumerKey],
    ['oauth_nonce', input.nonce],
    ['oauth_signature_method', 'HMAC-SHA1'],
    ['oauth_timestamp', String(input.timestamp)],
    ...(input.token === undefined ? [] : [['oauth_token', input.token] as const]),
    ['oauth_version', '1.0'],
    ...(input.oauth ?? [])
  ]
  const url = new URL(input.url)
  const query: Param[] = [...url.searchParams.entries()]
  const base = signatureBaseString(input.method, baseStringUri(input.url), [...query, ...(input.form ?? []), ...oauth])
  const signature = hmacSha1Signature(base, input.consumerSecret, input.tokenSecret ?? '')
  return buildAuthorizationHeader([...oauth, ['oauth_signature', signature]])
}

export interface VerifySignatureInput {
  method: string
  /** The request URL as the client addressed it; its query is ignored here (pass it in `params`). */
  url: string
  /** Every query, form-body and oauth_* parameter of the request, oauth_signature included. */
  params: readonly Param[]
  consumerSecret: string
  tokenSecret: string
}

/** RFC 5849 §3.2 step 1: recomputes the signature over everything but oauth_signature and compares. */
export function verifySignature (input: VerifySignatureInput): boolean {
  const signatures = input.params.filter(([k]) => k === 'oauth_signature')
  if (signatures.length !== 1) return false
  const signed = input.params.filter(([k]) => k !== 'oauth_signature')
  const expected = hmacSha1Signature(signatureBaseString(input.method, baseStringUri(input.url), signed), input.consumerSecret, input.tokenSecret)
  return signaturesMatch(expected, signatures[0]![1])
}
