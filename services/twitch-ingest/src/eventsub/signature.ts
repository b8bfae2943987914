import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Twitch signs every EventSub message with the subscription's secret: `sha256=` and the hex
 * HMAC-SHA256 of the message id, the timestamp and the raw body, concatenated (docs/providers.md
 * §1.5). The body must be the bytes as received: parsing and re-serialising changes them.
 */
export function eventsubSignature (secret: string, messageId: string, timestamp: string, rawBody: Buffer): string {
  const hmac = createHmac('sha256', secret)
  hmac.update(messageId)
  hmac.update(timestamp)
  hmac.update(rawBody)
  return `sha256=${hmac.digest('hex')}`
}

/** Compares in constant time, so the answer's timing says nothing about how much of a forgery matched. */
export function signatureMatches (secret: string, messageId: string, timestamp: string, rawBody: Buffer, given: string): boolean {
  const expected = Buffer.from(eventsubSignature(secret, messageId, timestamp, rawBody), 'utf8')
  const actual = Buffer.from(given.toLowerCase(), 'utf8')
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
