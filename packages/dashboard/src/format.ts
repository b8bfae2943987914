const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 })
const whole = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 })

export function formatNumber (n: number, short = false): string {
  return short && Math.abs(n) >= 10_000 ? compact.format(n) : whole.format(n)
}

export function formatDelta (n: number | null | undefined, percent = false): string {
  if (n === null || n === undefined) return 'n/a'
  const v = percent ? `${(Math.abs(n) * 100).toFixed(2)} pt` : formatNumber(Math.abs(n))
  return n > 0 ? `▲ +${v}` : n < 0 ? `▼ −${v}` : `＝ ${v}`
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })

export function timeAgo (iso: string | Date | null | undefined, now = Date.now()): string {
  if (iso === null || iso === undefined) return 'never'
  const s = Math.round((new Date(iso).getTime() - now) / 1000)
  if (Math.abs(s) < 60) return relative.format(s, 'second')
  if (Math.abs(s) < 3600) return relative.format(Math.round(s / 60), 'minute')
  if (Math.abs(s) < 86400) return relative.format(Math.round(s / 3600), 'hour')
  return relative.format(Math.round(s / 86400), 'day')
}

export function formatDateTime (iso: string, timezone: string): string {
  return new Date(iso).toLocaleString(undefined, { timeZone: timezone, dateStyle: 'medium', timeStyle: 'short' })
}

/** Today's calendar date (YYYY-MM-DD) in a time zone. */
export function todayIn (timezone: string, at = new Date()): string {
  return at.toLocaleDateString('en-CA', { timeZone: timezone })
}
