import { renderMail, type RenderedMail } from '@pulse/mail'

/**
 * The mails auth sends. Links go to the dashboard with the secret in the fragment (`#token=`):
 * browsers never send a fragment to a server, so the secret stays out of every access log.
 */
export function linkTo (frontendUrl: string, path: string, token: string): string {
  return `${new URL(path, frontendUrl).toString()}#token=${token}`
}

const hello = (name: string) => `Hello ${name},`

export function verifyEmailMail (name: string, link: string, ttlHours: number): RenderedMail {
  return renderMail({
    subject: 'Confirm your e-mail address for Pulse',
    greeting: hello(name),
    paragraphs: [`Open the link below to confirm that this address belongs to your Pulse account. It works once, within ${ttlHours} hours.`],
    action: { label: 'Confirm this address', url: link },
    footer: 'If you did not add this address to a Pulse account, ignore this mail: nothing changes.'
  })
}

export function emailChangedMail (name: string, newEmail: string): RenderedMail {
  return renderMail({
    subject: 'Your Pulse e-mail address is changing',
    greeting: hello(name),
    paragraphs: [
      `Your Pulse account's e-mail address was just changed to ${newEmail}. Mails will go there once it is confirmed.`,
      'If you did not do this, sign in and change your password at once, then set your address back.'
    ]
  })
}

export function passwordResetMail (name: string, link: string, ttlMinutes: number): RenderedMail {
  return renderMail({
    subject: 'Choose a new Pulse password',
    greeting: hello(name),
    paragraphs: [`Someone asked to reset your Pulse password. Open the link below to choose a new one: it works once, within ${ttlMinutes} minutes, and signs you out everywhere.`],
    action: { label: 'Choose a new password', url: link },
    footer: 'If you did not ask for this, ignore this mail: your password stays as it is.'
  })
}

export function passwordChangedMail (name: string): RenderedMail {
  return renderMail({
    subject: 'Your Pulse password was changed',
    greeting: hello(name),
    paragraphs: ['Your Pulse password was just changed and your other sessions were signed out.', 'If you did not do this, reset your password now from the sign-in page.']
  })
}

export function exportReadyMail (name: string, link: string, expiresAt: string): RenderedMail {
  return renderMail({
    subject: 'Your Pulse data export is ready',
    greeting: hello(name),
    paragraphs: [`The export of your Pulse data you asked for is ready. Download it from your settings before ${new Date(expiresAt).toUTCString()}; after that it is deleted.`],
    action: { label: 'Open your settings', url: link }
  })
}
