import { STATUS_CODES } from 'node:http'

/** The error bodies each provider really sends (docs/providers.md §1.1, §1.2, §2.1, §2.6). */

/** id.twitch.tv: `{status, message}`, no `error` key. */
export function twitchIdError (status: number, message: string): { status: number, message: string } {
  return { status, message }
}

/** Helix: `{error, status, message}` with the HTTP reason phrase as `error`. */
export function helixError (status: number, message: string): { error: string, status: number, message: string } {
  return { error: STATUS_CODES[status] ?? 'Error', status, message }
}

/** X v1.1 and the OAuth 1.0a endpoints: `{"errors":[{"code","message"}]}`. */
export function xV1Error (code: number, message: string): { errors: Array<{ code: number, message: string }> } {
  return { errors: [{ code, message }] }
}

export const X_V1 = {
  couldNotAuthenticate: () => xV1Error(32, 'Could not authenticate you.'),
  invalidToken: () => xV1Error(89, 'Invalid or expired token.'),
  timestamp: () => xV1Error(135, 'Timestamp out of bounds.'),
  rateLimited: () => xV1Error(88, 'Rate limit exceeded'),
  overCapacity: () => xV1Error(130, 'Over capacity'),
  internal: () => xV1Error(131, 'Internal error')
}

export interface Problem {
  title: string
  detail: string
  type: string
  status?: number
  [extra: string]: unknown
}

/** X API v2 problem JSON, sent as application/problem+json. */
export function xProblem (status: number, title: string, detail: string, type = 'about:blank', extra: Record<string, unknown> = {}): Problem {
  return { title, detail, type, status, ...extra }
}

export const X_PROBLEM_TYPE = 'application/problem+json'
