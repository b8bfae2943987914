import http from 'node:http'
import https from 'node:https'
import { checkTarget, guardedLookup, RefusedTargetError, type AddressPolicy } from './address-policy.js'

export interface WebhookResult {
  ok: boolean
  /** The last answer's status; null when none came. */
  statusCode: number | null
  latencyMs: number
  /** Why it failed, for the delivery log (never a header or the secret). */
  error: string | null
}

/** Redirects followed at most: each hop is checked like the first URL. */
export const MAX_REDIRECTS = 3
const REDIRECTS = new Set([301, 302, 303, 307, 308])

interface Answer { statusCode: number, location: string | undefined }

function post (url: URL, body: string, headers: Record<string, string>, policy: AddressPolicy, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Pulse-Webhooks/1' },
      lookup: guardedLookup(policy) as never,
      timeout: timeoutMs
    }, (response) => {
      // The answer's body is not used: read and dropped, so the connection is freed.
      response.resume()
      response.on('end', () => { resolve({ statusCode: response.statusCode ?? 0, location: response.headers.location }) })
      response.on('error', reject)
    })
    request.on('timeout', () => { request.destroy(new Error(`no answer within ${timeoutMs} ms`)) })
    request.on('error', reject)
    request.end(body)
  })
}

/**
 * POSTs a signed webhook. Redirects are not followed by the HTTP client: each `Location` is checked
 * against the policy (scheme, addresses after DNS resolution) before it is posted to, at most
 * MAX_REDIRECTS times. Only a 2xx answer is a success.
 */
export async function sendWebhook (target: string, body: string, headers: Record<string, string>, { policy, timeoutMs }: { policy: AddressPolicy, timeoutMs: number }): Promise<WebhookResult> {
  const started = performance.now()
  const result = (ok: boolean, statusCode: number | null, error: string | null): WebhookResult =>
    ({ ok, statusCode, error, latencyMs: Math.round(performance.now() - started) })
  let current = target
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let answer: Answer
    try {
      const url = await checkTarget(current, policy)
      answer = await post(url, body, headers, policy, timeoutMs)
    } catch (error) {
      const reason = error instanceof RefusedTargetError ? `refused: ${error.message}` : (error as Error).message
      return result(false, null, (hop === 0 ? reason : `redirect to ${current} ${reason}`).slice(0, 500))
    }
    if (answer.statusCode >= 200 && answer.statusCode < 300) return result(true, answer.statusCode, null)
    if (!REDIRECTS.has(answer.statusCode) || answer.location === undefined) return result(false, answer.statusCode, `answered ${answer.statusCode}`)
    if (hop === MAX_REDIRECTS) return result(false, answer.statusCode, `more than ${MAX_REDIRECTS} redirects`)
    try { current = new URL(answer.location, current).toString() } catch { return result(false, answer.statusCode, 'redirect to an invalid URL') }
  }
  /* c8 ignore next */
  return result(false, null, 'unreachable')
}
