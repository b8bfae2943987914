import type { FastifyRequest } from 'fastify'

/** Reading parameters the way the providers do. */

type Bag = Record<string, unknown>

function asBag (value: unknown): Bag {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Bag) : {}
}

function strings (value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string')
  return []
}

/** Every value of a repeated query parameter (`login=a&login=b`, docs/providers.md §1.2). */
export function queryAll (request: FastifyRequest, name: string): string[] {
  return strings(asBag(request.query)[name])
}

/** The first value of a query parameter. */
export function queryOne (request: FastifyRequest, name: string): string | undefined {
  return queryAll(request, name)[0]
}

/**
 * A parameter from the query string, else from the body: twitch-cli reads the query first and then
 * the form, and Twurple sends everything in the query of a bodiless POST (docs/providers.md §1.1).
 */
export function queryOrBody (request: FastifyRequest, name: string): string | undefined {
  return queryOne(request, name) ?? strings(asBag(request.body)[name])[0]
}

/** The decoded query parameters in order, duplicates kept (they are all signed in OAuth 1.0a). */
export function rawQueryPairs (request: FastifyRequest): Array<[string, string]> {
  const at = request.url.indexOf('?')
  return at === -1 ? [] : [...new URLSearchParams(request.url.slice(at + 1)).entries()]
}

/** The decoded pairs of a form-encoded body; other bodies are not signed (docs/providers.md §2.2). */
export function formBodyPairs (request: FastifyRequest): Array<[string, string]> {
  const type = request.headers['content-type'] ?? ''
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return []
  return Object.entries(asBag(request.body)).flatMap(([k, v]) => strings(v).map((s) => [k, s] as [string, string]))
}

export function header (request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()]
  return Array.isArray(value) ? value[0] : value
}

/** Minimal HTML escaping for the consent pages. */
export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** Adds query parameters to a redirect URI, keeping the ones it already has. */
export function withQuery (uri: string, params: Record<string, string>): string {
  const url = new URL(uri)
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)
  return url.toString()
}
