/** A row id as Postgres' gen_random_uuid() writes it: what keyset cursors and data-export pages end on. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** An opaque cursor: clients pass back what they got, they do not build or read it. */
export function encodeCursor (value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** What `encodeCursor` encoded, or undefined when the cursor is not base64url JSON. */
export function decodeCursorValue (cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
  } catch {
    return undefined
  }
}

/**
 * A keyset cursor `[key, id]` (the sort key and the uuid of the last row of a page), encoded by
 * `encodeCursor([key, id])`; undefined when the cursor is not one. The caller checks the key.
 */
export function decodeKeysetCursor (cursor: string): { key: unknown, id: string } | undefined {
  const decoded = decodeCursorValue(cursor)
  if (!Array.isArray(decoded) || decoded.length !== 2) return undefined
  const [key, id] = decoded as unknown[]
  if (typeof id !== 'string' || !UUID_PATTERN.test(id)) return undefined
  return { key, id }
}
