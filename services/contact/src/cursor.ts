import { decodeKeysetCursor, encodeCursor as encodeValue } from '@pulse/service-kit'
import type { ListPosition } from './repositories/submissions.js'

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/

/** An opaque cursor: the position (received_at, id) of the last message of a page. */
export function encodeCursor (position: ListPosition): string {
  return encodeValue([position.receivedAt, position.id])
}

/** The position a cursor points at; undefined when it is not one this service issued. */
export function decodeCursor (cursor: string): ListPosition | undefined {
  const decoded = decodeKeysetCursor(cursor)
  if (decoded === undefined) return undefined
  const receivedAt = decoded.key
  if (typeof receivedAt !== 'string' || !TIMESTAMP.test(receivedAt) || !isRealInstant(receivedAt)) return undefined
  return { receivedAt, id: decoded.id }
}

/** Refuses dates that do not exist (February 31st), which Postgres would reject with an error. */
function isRealInstant (timestamp: string): boolean {
  const milliseconds = `${timestamp.slice(0, 23)}Z`
  const date = new Date(milliseconds)
  return !Number.isNaN(date.getTime()) && date.toISOString() === milliseconds
}
