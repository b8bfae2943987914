import type { EntryPosition } from './repositories/entries.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Entries are never logged outside these instants (see loggedAt rules), so neither are cursors. */
export const EARLIEST_LOGGED_AT = Date.UTC(1900, 0, 1)
const LATEST_LOGGED_AT = Date.UTC(9999, 11, 31)

/** An opaque cursor: the position (logged_at, id) of the last entry of a page. */
export function encodeCursor ({ loggedAt, id }: EntryPosition): string {
  return Buffer.from(JSON.stringify([loggedAt.getTime(), id])).toString('base64url')
}

/** The position a cursor stands for, or undefined when it is not one of ours. */
export function decodeCursor (cursor: string): EntryPosition | undefined {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  if (!Array.isArray(value) || value.length !== 2) return undefined
  const [time, id] = value as [unknown, unknown]
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < EARLIEST_LOGGED_AT || time > LATEST_LOGGED_AT) return undefined
  if (typeof id !== 'string' || !UUID.test(id)) return undefined
  return { loggedAt: new Date(time), id }
}
