/**
 * Helix cursor pagination (docs/providers.md §1.2). Cursors look like Twitch's: base64 of
 * `{"b":…,"a":{"Offset":n}}`, where `a` is where the next page starts and `b` where this one began.
 * They are offsets, so new entries at the head shift later pages and an entry can show up on two
 * pages — as Twitch warns. At the end `pagination` is `{}`, not missing.
 */
export class PaginationError extends Error {}

interface Position { Offset: number }
interface Cursor { b: Position | null, a: Position | null }

export function encodeCursor (start: number, end: number): string {
  const cursor: Cursor = { b: start > 0 ? { Offset: start } : null, a: { Offset: end } }
  return Buffer.from(JSON.stringify(cursor)).toString('base64')
}

function decodeCursor (value: string, side: 'a' | 'b'): number {
  try {
    const cursor = JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as Partial<Cursor>
    const offset = cursor[side]?.Offset
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset
  } catch {
    // fall through to the error below
  }
  throw new PaginationError('Invalid cursor')
}

/** `first`: 1 to `max`, else the endpoint's default. */
export function parseFirst (value: string | undefined, fallback: number, max = 100, name = 'first'): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1 || n > max) {
    throw new PaginationError(`The parameter "${name}" was malformed: the value must be between 1 and ${max}`)
  }
  return n
}

export interface Page {
  start: number
  end: number
  pagination: { cursor?: string }
}

/** The slice of a list of `total` entries that a request with `first`/`after`/`before` asks for. */
export function pageOf (total: number, first: number, after: string | undefined, before: string | undefined): Page {
  if (after !== undefined && before !== undefined) throw new PaginationError('after and before are mutually exclusive')
  let start = 0
  if (after !== undefined) start = decodeCursor(after, 'a')
  if (before !== undefined) start = Math.max(0, decodeCursor(before, 'b') - first)
  const end = before !== undefined ? Math.min(total, decodeCursor(before, 'b')) : Math.min(total, start + first)
  const clampedStart = Math.min(start, end)
  return {
    start: clampedStart,
    end,
    pagination: end < total ? { cursor: encodeCursor(clampedStart, end) } : {}
  }
}

/** `pageOf` applied to a list in memory. */
export function slice<T> (items: readonly T[], first: number, after: string | undefined, before: string | undefined): { data: T[], pagination: { cursor?: string } } {
  const page = pageOf(items.length, first, after, before)
  return { data: items.slice(page.start, page.end), pagination: page.pagination }
}
