/** The canonical IANA name of a time zone, or undefined when the runtime does not know it. */
export function canonicalTimezone (name: string): string | undefined {
  if (!/^[A-Za-z0-9_+\-/]+$/.test(name)) return undefined
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone
  } catch {
    return undefined
  }
}
