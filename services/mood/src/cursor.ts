import { decodeKeysetCursor, encodeCursor as encodeValue } from '@pulse/service-kit'
import type { EntryPosition } from './repositories/entries.js'

/** Entries are never logged outside these instants (see loggedAt rules), so neither are cursors. */
export const EARLIEST_LOGGED_AT = Date.UTC(1900, 0, 1)
const LATEST_LOGGED_AT = Date.UTC(9999, 11, 31)

/** An opaque cursor: the position (logged_at, id) of the last entry of a page. */
export function encodeCursor ({ loggedAt, id }: EntryPosition): string {
  return encodeValue([loggedAt.getTime(), id])
}

/** The position a cursor stands for, or undefined when it is not one of ours. */
export function decodeCursor (cursor: string): EntryPosition | undefined {
  const decoded = decodeKeysetCursor(cursor)
  if (decoded === undefined) return undefined
  const time = decoded.key
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < EARLIEST_LOGGED_AT || time > LATEST_LOGGED_AT) return undefined
  return { loggedAt: new Date(time), id: decoded.id }
}
