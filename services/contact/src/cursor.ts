import type { ListPosition } from './repositories/submissions.js'

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** An opaque cursor: clients pass back what they got, they do not build or read it. */
export function encodeCursor (position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.receivedAt, position.id])).toString('base64url')
}

/** The position a cursor points at; undefined when it is not one this service issued. */
export function decodeCursor (cursor: string): ListPosition | undefined {
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) return undefined
  const [receivedAt, id] = decoded as unknown[]
  if (typeof receivedAt !== 'string' || !TIMESTAMP.test(receivedAt) || !isRealInstant(receivedAt)) return undefined
  if (typeof id !== 'string' || !UUID.test(id)) return undefined
  return { receivedAt, id }
}

/** Refuses dates that do not exist (February 31st), which Postgres would reject with an error. */
function isRealInstant (timestamp: string): boolean {
  const milliseconds = `${timestamp.slice(0, 23)}Z`
  const date = new Date(milliseconds)
  return !Number.isNaN(date.getTime()) && date.toISOString() === milliseconds
}
