import { ErrorResponseSchema } from '@pulse/contracts'

/** What each error status means on notify's routes, for the API reference. */
const ERROR_MEANINGS: Record<number, string> = {
  400: 'Invalid input; the message names the field',
  401: 'Not logged in',
  404: 'No such webhook endpoint (of yours)',
  409: 'Not possible in the endpoint\'s state, or too many endpoints',
  413: 'Body too large',
  415: 'The body is not JSON',
  500: 'Something went wrong on our side',
  503: 'Storage is unavailable; retry after `retry-after` seconds'
}

export const errors = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, { ...ErrorResponseSchema, description: ERROR_MEANINGS[code] }]))
