import {
  NotificationSettingsSchema, NotificationSettingsUpdateSchema, UnsubscribeQuerySchema, UnsubscribedSchema, type NotificationSettings
} from '@pulse/contracts'
import { requireIdentity } from '@pulse/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { NotifyAdminKindError, NotifyBadLinkError } from '../errors.js'
import { ADMIN_KINDS, effectiveChannels, kindsFor } from '../kinds.js'
import { readUnsubscribeToken } from '../mail/unsubscribe.js'
import { listSettings, saveSettings } from '../repositories/settings.js'
import { errors } from './errors.js'

export default async function settingsRoutes (fastify: FastifyInstance, { linkSecret }: { linkSecret: string }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const db = app.db as Kysely<Database>

  const settingsOf = async (userId: string, role: 'user' | 'admin'): Promise<NotificationSettings> => {
    const stored = await listSettings(db, [userId])
    return { settings: kindsFor(role).map((kind) => ({ kind, ...effectiveChannels(kind, stored) })) }
  }

  app.get('/notify/settings', {
    schema: {
      summary: 'Your notification settings',
      description: 'Per kind, whether it reaches you by mail (your verified address), your webhooks and your open dashboards; defaults until you change them. `contact.received` is listed for admins only.',
      tags: ['notify'],
      response: { 200: { ...NotificationSettingsSchema, description: 'Every kind you may receive' }, ...errors(401, 500, 503) }
    }
  }, async (request) => {
    const { userId, role } = requireIdentity(request)
    return await settingsOf(userId, role)
  })

  app.patch('/notify/settings', {
    schema: {
      summary: 'Turn notification channels on or off',
      description: 'Each change names a kind, a channel (email, webhook, live) and whether it is on; kinds and channels not named keep their value. Answers every setting.',
      tags: ['notify'],
      body: NotificationSettingsUpdateSchema,
      response: { 200: { ...NotificationSettingsSchema, description: 'Every kind you may receive, after the change' }, ...errors(400, 401, 413, 415, 500, 503) }
    }
  }, async (request) => {
    const { userId, role } = requireIdentity(request)
    const changes = request.body.changes
    const adminOnly = changes.findIndex((c) => ADMIN_KINDS.has(c.kind))
    if (role !== 'admin' && adminOnly !== -1) throw new NotifyAdminKindError(adminOnly)
    await saveSettings(db, userId, changes)
    return await settingsOf(userId, role)
  })

  // One click from a mail, without a login: the signed link names the user and the kind.
  // RFC 8058's one-click unsubscribe is a POST; a link opened in a browser is a GET: both work.
  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/notify/unsubscribe',
      config: { public: true },
      schema: {
        summary: method === 'GET' ? 'Stop one kind of mail (the link in a mail)' : 'Stop one kind of mail (one-click, RFC 8058)',
        description: 'The signed link of a notification mail turns that kind\'s mails off for its recipient. Needs no login.',
        tags: ['notify'],
        security: [],
        querystring: UnsubscribeQuerySchema,
        response: { 200: { ...UnsubscribedSchema, description: 'Mails of this kind are off' }, ...errors(400, 500, 503) }
      },
      handler: async (request) => {
        const link = readUnsubscribeToken(linkSecret, request.query.token)
        if (link === undefined) throw new NotifyBadLinkError()
        await saveSettings(db, link.userId, [{ kind: link.kind, channel: 'email', enabled: false }])
        request.log.info({ userId: link.userId, kind: link.kind }, 'mails of a kind turned off from an unsubscribe link')
        return { kind: link.kind, channel: 'email' as const, enabled: false as const }
      }
    })
  }
}
