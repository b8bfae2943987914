import { createHmac, randomBytes } from 'node:crypto'

/** The prefix of a Standard Webhooks secret (https://www.standardwebhooks.com, "Signature scheme"). */
export const SECRET_PREFIX = 'whsec_'

/** A new signing secret: 32 random bytes, base64, with the `whsec_` prefix the verifiers expect. */
export function newWebhookSecret (): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`
}

/**
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with the secret's base64-decoded
 * bytes; several secrets (a rotation in progress) give several signatures separated by spaces, and a
 * receiver accepts the message when any one matches.
 */
export function signWebhook (secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  return secrets.map((secret) => {
    const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64')
    return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`
  }).join(' ')
}
