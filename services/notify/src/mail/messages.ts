import { renderMail, type RenderedMail } from '@pulse/mail'
import type { DeliveryPayload } from '../db/database.js'

/** Why the reader gets this kind of mail, said under each one. */
const REASONS: Record<string, string> = {
  'contact.received': 'You get this mail because you are an admin of Pulse and mails about contact messages are on.',
  'channel.live': 'You get this mail because mails about channels going live are on.',
  milestone: 'You get this mail because mails about milestones are on.',
  'connection.broken': 'You get this mail because mails about your connections are on.',
  'mood.reminder': 'You get this mail because the daily mood reminder is on.',
  'webhook.disabled': 'You get this mail because you own this webhook endpoint.'
}

/**
 * A notification as a mail (plain text and simple HTML, @pulse/mail's layout), with its one-click
 * unsubscribe link when the kind has one (a disabled endpoint's mail has none: it is sent once).
 */
export function notificationMail (kind: string, payload: DeliveryPayload, unsubscribeUrl: string | undefined): RenderedMail {
  const footer = [REASONS[kind] ?? '', unsubscribeUrl !== undefined ? `Stop these mails with one click: ${unsubscribeUrl}` : ''].filter((s) => s !== '').join(' ')
  return renderMail({
    subject: payload.title,
    greeting: 'Hello,',
    paragraphs: payload.body.split('\n\n'),
    ...(payload.url !== undefined ? { action: { label: 'Open Pulse', url: payload.url } } : {}),
    footer
  })
}

/** Several notifications of one kind within minutes: one mail listing them. */
export function digestMail (kind: string, payloads: DeliveryPayload[], unsubscribeUrl: string | undefined): RenderedMail {
  const first = payloads[0]!
  return notificationMail(kind, {
    title: `${payloads.length} notifications: ${first.title}${payloads.length > 1 ? ' and more' : ''}`,
    body: payloads.map((p) => `• ${p.title} (${p.at})`).join('\n\n'),
    ...(first.url !== undefined ? { url: first.url } : {}),
    data: {},
    at: first.at
  }, unsubscribeUrl)
}
