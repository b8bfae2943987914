/**
 * `returnTo` comes from the query string of a login link, so anyone can craft it. It is kept only
 * when it is a path on the front end's own origin; anything else is dropped and the browser lands on
 * the front end's home instead (never a 400: a bad link still signs the user in).
 *
 * The check runs on the path as the browser will read it, AFTER URL normalisation: dot segments
 * (`/a/..//x`, `/.//x`) collapse into `//x`, which a browser resolves as another host
 * (docs/pitfalls.md, "OAuth": `reply.redirect(userInput)`). Browsers also read `\` as `/` and drop tabs and line
 * breaks inside URLs, so backslashes and control characters are refused outright, before parsing.
 */
export const MAX_RETURN_TO_LENGTH = 2048

export function safeReturnPath (value: unknown, frontendUrl: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO_LENGTH) return undefined
  if (!value.startsWith('/') || value.startsWith('//')) return undefined
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\\\u0000-\u001f\u007f]/.test(value)) return undefined
  const base = new URL(frontendUrl)
  let resolved: URL
  try {
    resolved = new URL(value, base.origin)
  } catch {
    return undefined
  }
  if (resolved.origin !== base.origin) return undefined
  const path = `${resolved.pathname}${resolved.search}${resolved.hash}`
  // The normalised path must still be a path: `//x` (or `/\x`) would leave the origin when resolved again.
  if (!path.startsWith('/') || path.startsWith('//') || path.includes('\\')) return undefined
  return landing(base.origin, path) === undefined ? undefined : path
}

/** The absolute landing URL of a same-origin path, or undefined when it would not stay on `origin`. */
function landing (origin: string, path: string): URL | undefined {
  const target = new URL(origin)
  const parsed = new URL(path, origin)
  target.pathname = parsed.pathname
  target.search = parsed.search
  target.hash = parsed.hash
  return target.origin === origin ? target : undefined
}

/**
 * Where the browser goes after a provider flow: `returnTo` (or the front end), with `?error=` when
 * it failed. The target is built from the front end's origin and checked once more, so whatever
 * reaches this function, the browser never leaves that origin.
 */
export function frontendRedirect (frontendUrl: string, returnPath: string | undefined, error?: string): string {
  const home = new URL(frontendUrl)
  const checked = returnPath === undefined ? undefined : safeReturnPath(returnPath, frontendUrl)
  const target = checked === undefined ? new URL(home.href) : landing(home.origin, checked) ?? new URL(home.href)
  if (error !== undefined) target.searchParams.set('error', error)
  if (target.origin !== home.origin) throw new Error('redirect target left the front end origin')
  return target.toString()
}
