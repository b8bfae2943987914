import { RecipientsRpcV1, type RecipientsReply } from '@pulse/contracts'
import { answerRequests, type Responder } from '@pulse/service-kit'
import type { FastifyInstance } from 'fastify'
import { findRecipients } from '../repositories/users.js'

/**
 * Answers notify's `rpc.auth.recipients.v1` (core NATS request-reply, in the `auth` queue group):
 * the admins, or given users, with their display name, time zone and *verified* address only (an
 * unverified one is null: mail goes only where the user proved they read it). Nothing else of the
 * account travels.
 */
export function serveRecipients (app: FastifyInstance): void {
  let responder: Responder | undefined
  app.addHook('onReady', async () => {
    responder = await answerRequests(app.nats, RecipientsRpcV1, {
      queue: 'auth',
      handle: async (request): Promise<RecipientsReply> => {
        const users = await findRecipients(app.db, request)
        return {
          ok: true,
          recipients: users.map((u) => ({
            userId: u.id, role: u.role, displayName: u.display_name, timezone: u.timezone, email: u.email_verified_at !== null ? u.email : null
          }))
        }
      },
      refuse: (why): RecipientsReply => {
        if ('problems' in why) {
          app.log.warn({ problems: why.problems }, 'recipients request does not match its contract')
          return { ok: false, error: 'invalid', message: why.problems.join('; ') }
        }
        app.log.warn({ err: why.error }, 'recipients request failed')
        return { ok: false, error: 'unavailable', message: 'auth could not read the users; try again later' }
      }
    })
  })
  app.addHook('preClose', async () => { await responder?.close() })
}
