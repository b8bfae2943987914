import { STATUS_CODES } from 'node:http'

/** `Too Many Requests` → `TOO_MANY_REQUESTS`: the generic part of a prefixed error code. */
export function statusCodeName (statusCode: number): string {
  return (STATUS_CODES[statusCode] ?? 'ERROR').toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_|_$/g, '')
}

const TRANSIENT_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN'])
// SQLSTATE class 08 (connection exception), 57P01..03 (shutdown, cannot connect now), 53300 (too many
// connections), 57014 (statement_timeout), 55P03 (lock_timeout), 25P03 (idle_in_transaction_session_timeout)
const TRANSIENT_SQLSTATES = /^(08...|57P0[123]|53300|57014|55P03|25P03)$/

/**
 * True when an error means a dependency (Postgres, Redis, NATS) is unreachable or too slow right now
 * (a Redis command or a Postgres statement or lock wait timed out): the request can be retried and
 * deserves a 503, not a 500.
 */
export function isDependencyUnavailable (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const e = error as { code?: unknown, message?: unknown, errors?: unknown, cause?: unknown }
  if (typeof e.code === 'string' && (TRANSIENT_NETWORK_CODES.has(e.code) || TRANSIENT_SQLSTATES.test(e.code))) return true
  const message = typeof e.message === 'string' ? e.message : ''
  if (/timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error|Connection is closed|connect ECONNREFUSED|Stream isn't writeable|enableOfflineQueue|max retries per request|MaxRetriesPerRequest|Command timed out/i.test(message)) return true
  if (Array.isArray(e.errors) && e.errors.some(isDependencyUnavailable)) return true
  return e.cause !== undefined && e.cause !== error && isDependencyUnavailable(e.cause)
}
