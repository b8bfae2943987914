import { NOTIFICATION_CHANNELS, NOTIFICATION_KINDS, type NotificationChannel, type NotificationKind } from '@pulse/contracts'

type Channels = Record<NotificationChannel, boolean>

/**
 * What a user receives before choosing anything. Mail goes out for what needs attention (a message
 * to answer, a broken connection, a milestone); a channel going live is shown on the dashboard and
 * sent to webhooks but not mailed (it can happen several times a day); the mood reminder is sent only
 * once the user chooses its time (PUT /notify/mood-reminder), by mail and on the dashboard.
 */
export const DEFAULT_CHANNELS: Record<NotificationKind, Channels> = {
  'contact.received': { email: true, webhook: true, live: true },
  'channel.live': { email: false, webhook: true, live: true },
  milestone: { email: true, webhook: true, live: true },
  'connection.broken': { email: true, webhook: true, live: true },
  'mood.reminder': { email: true, webhook: false, live: true }
}

/** Kinds only admins receive (and may set). */
export const ADMIN_KINDS: ReadonlySet<NotificationKind> = new Set(['contact.received'])

export const kindsFor = (role: 'user' | 'admin'): NotificationKind[] => NOTIFICATION_KINDS.filter((k) => role === 'admin' || !ADMIN_KINDS.has(k))

/** The defaults overlaid with the user's stored choices. */
export function effectiveChannels (kind: NotificationKind, stored: readonly { kind: string, channel: string, enabled: boolean }[]): Channels {
  const channels = { ...DEFAULT_CHANNELS[kind] }
  for (const row of stored) {
    if (row.kind === kind && (NOTIFICATION_CHANNELS as readonly string[]).includes(row.channel)) channels[row.channel as NotificationChannel] = row.enabled
  }
  return channels
}
