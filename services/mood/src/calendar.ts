/**
 * Calendar days in a user's time zone. Node's ICU is the one authority on time zones here: days
 * are computed in Node and handed to Postgres as plain dates, so Postgres's own zone rules (which
 * read "UTC+3" POSIX-style, east of UTC being negative) never get a say.
 */

const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/
const MAX_CACHED_ZONES = 1000
const formatters = new Map<string, Intl.DateTimeFormat | null>()

function formatterFor (timeZone: string): Intl.DateTimeFormat | null {
  let formatter = formatters.get(timeZone)
  if (formatter === undefined) {
    try {
      formatter = IANA_NAME.test(timeZone)
        ? new Intl.DateTimeFormat('en-US', { timeZone, calendar: 'gregory', numberingSystem: 'latn', year: 'numeric', month: '2-digit', day: '2-digit' })
        : null
    } catch {
      formatter = null // RangeError: not a time zone ICU knows
    }
    if (formatters.size >= MAX_CACHED_ZONES) formatters.clear()
    formatters.set(timeZone, formatter)
  }
  return formatter
}

/** True for names of the IANA time zone database (Europe/Berlin, UTC); offsets like "+05:00" are not zones. */
export function isKnownTimeZone (timeZone: string): boolean {
  return formatterFor(timeZone) !== null
}

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDay (instant: number | Date, timeZone: string): string {
  const formatter = formatterFor(timeZone)
  if (formatter === null) throw new RangeError(`unknown time zone ${timeZone}`)
  const parts: Record<string, string> = {}
  for (const part of formatter.formatToParts(instant)) parts[part.type] = part.value
  return `${parts.year!.padStart(4, '0')}-${parts.month}-${parts.day}`
}

const todays = new Map<string, { minute: number, day: string }>()

/**
 * localDay of "now", remembered per zone for the minute it was asked in: every request needs its
 * today, and ICU's answer costs more than the rest of the request's bookkeeping. A minute is kept
 * only when it lies wholly within one day (zones whose offsets have seconds, as many had before
 * 1900, may change day in the middle of a minute): the day can change only at a change of offset
 * or at midnight, and a minute holds at most one of those.
 */
export function todayIn (now: number, timeZone: string): string {
  const minute = Math.floor(now / 60_000)
  const known = todays.get(timeZone)
  if (known !== undefined && known.minute === minute) return known.day
  const day = localDay(now, timeZone)
  const start = minute * 60_000
  if (localDay(start, timeZone) === day && localDay(start + 59_999, timeZone) === day) {
    if (todays.size >= MAX_CACHED_ZONES) todays.clear()
    todays.set(timeZone, { minute, day })
  }
  return day
}

/** The day `n` days after (or before, when negative) a YYYY-MM-DD day. */
export function addDays (day: string, n: number): string {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number]
  return new Date(Date.UTC(year, month - 1, date + n)).toISOString().slice(0, 10)
}
