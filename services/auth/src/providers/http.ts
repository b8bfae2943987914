/**
 * How calls to Twitch and X fail, as far as auth cares: the provider refused the grant (the user
 * revoked it, the refresh token is spent) — connect again; or the provider could not be asked
 * (network, timeout, 5xx, 429, an answer we cannot read) — try again later. Messages name the
 * call and the status, never a token.
 */
export class GrantRejected extends Error {
  constructor (readonly call: string, readonly status: number) {
    super(`${call}: the provider rejected the grant (${status})`)
    this.name = 'GrantRejected'
  }
}

export class ProviderUnavailable extends Error {
  constructor (readonly call: string, readonly status: number | undefined, cause?: unknown) {
    super(`${call}: the provider could not be reached${status === undefined ? '' : ` (${status})`}`, cause === undefined ? undefined : { cause: describe(cause) })
    this.name = 'ProviderUnavailable'
  }
}

/** Only the error's name and code travel on: a fetch error's cause can carry the request. */
function describe (error: unknown): string {
  const e = error as { name?: string, code?: string, cause?: { code?: string } }
  return [e.name, e.code ?? e.cause?.code].filter((s) => s !== undefined).join(' ')
}

/** fetch with a deadline; a network failure or timeout becomes ProviderUnavailable. */
export async function providerFetch (call: string, url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) })
  } catch (error) {
    throw new ProviderUnavailable(call, undefined, error)
  }
}

/** The JSON body of a response, or ProviderUnavailable when it is not JSON. */
export async function jsonOf (call: string, response: Response): Promise<unknown> {
  try {
    return await response.json()
  } catch (error) {
    throw new ProviderUnavailable(call, response.status, error)
  }
}

/** Joins a base URL that may carry a path (`https://id.twitch.tv/oauth2`) and a path below it. */
export function below (base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`
}
