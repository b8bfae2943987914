import { createHmac, timingSafeEqual } from 'node:crypto'
import { NOTIFICATION_KINDS, type NotificationKind } from '@pulse/contracts'

/**
 * One-click unsubscribe links: `<user id>.<kind>.<HMAC-SHA256 of both>` (base64url), signed with
 * NOTIFY_LINK_SECRET. A link turns off one kind's mails for one user, nothing else, so it needs no
 * login and never expires.
 */
export function unsubscribeToken (secret: string, userId: string, kind: NotificationKind): string {
  const body = `${Buffer.from(userId).toString('base64url')}.${kind}`
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`
}

export function readUnsubscribeToken (secret: string, token: string): { userId: string, kind: NotificationKind } | undefined {
  const parts = token.split('.')
  // The kind itself holds a dot (contact.received): the user is the first part, the signature the last.
  if (parts.length < 3) return undefined
  const signature = parts.pop()!
  const body = parts.join('.')
  const expected = createHmac('sha256', secret).update(body).digest()
  const given = Buffer.from(signature, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  const kind = parts.slice(1).join('.')
  if (!(NOTIFICATION_KINDS as readonly string[]).includes(kind)) return undefined
  return { userId: Buffer.from(parts[0]!, 'base64url').toString('utf8'), kind: kind as NotificationKind }
}
