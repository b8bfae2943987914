/**
 * `returnTo` comes from the query string of a login link, so anyone can craft it: it is kept only
 * when it is a path on the front end's own origin (docs/pitfalls.md, "OAuth": `reply.redirect(userInput)` passes
 * `//evil.example` and `/\evil.example` through). Browsers read `\` as `/` and drop tabs and line
 * breaks inside URLs, so `/\evil.example` and `/<TAB>/evil.example` would become `//evil.example`:
 * backslashes and control characters are refused outright, and the result must still resolve to
 * the front end's origin.
 */
export function safeReturnPath (value: unknown, frontendUrl: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return undefined
  if (!value.startsWith('/') || value.startsWith('//')) return undefined
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\\\u0000-\u001f\u007f]/.test(value)) return undefined
  const base = new URL(frontendUrl)
  let resolved: URL
  try {
    resolved = new URL(value, base)
  } catch {
    return undefined
  }
  return resolved.origin === base.origin ? `${resolved.pathname}${resolved.search}${resolved.hash}` : undefined
}

/** Where the browser goes after a provider flow: `returnTo` (or the front end), with `?error=` when it failed. */
export function frontendRedirect (frontendUrl: string, returnPath: string | undefined, error?: string): string {
  const target = new URL(returnPath ?? frontendUrl, frontendUrl)
  if (error !== undefined) target.searchParams.set('error', error)
  return target.toString()
}
