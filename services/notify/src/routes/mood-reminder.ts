import { MoodReminderSchema, MoodReminderUpdateSchema } from '@pulse/contracts'
import { requireIdentity } from '@pulse/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { errors } from './errors.js'

export default async function moodReminderRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const db = app.db as Kysely<Database>

  app.get('/notify/mood-reminder', {
    schema: {
      summary: 'Your daily mood reminder',
      description: 'The local time of the reminder (null: none) and the time zone it is read in: your account\'s.',
      tags: ['notify'],
      response: { 200: { ...MoodReminderSchema, description: 'The reminder' }, ...errors(401, 500, 503) }
    }
  }, async (request) => {
    const { userId, timezone } = requireIdentity(request)
    const row = await db.selectFrom('mood_reminders').select(['local_time']).where('user_id', '=', userId).executeTakeFirst()
    // The account's zone may have changed since the time was set: it follows the account.
    if (row !== undefined) await db.updateTable('mood_reminders').set({ timezone }).where('user_id', '=', userId).where('timezone', '<>', timezone).execute()
    return { time: row?.local_time ?? null, timezone }
  })

  app.put('/notify/mood-reminder', {
    schema: {
      summary: 'Set or remove your daily mood reminder',
      description: 'At this local time (HH:MM, your account\'s time zone), once a day, if you have not logged your mood that day yet, ' +
        'by the channels your `mood.reminder` settings turn on (mail and dashboard by default). null removes it.',
      tags: ['notify'],
      body: MoodReminderUpdateSchema,
      response: { 200: { ...MoodReminderSchema, description: 'The reminder' }, ...errors(400, 401, 413, 415, 500, 503) }
    }
  }, async (request) => {
    const { userId, timezone } = requireIdentity(request)
    const { time } = request.body
    if (time === null) {
      await db.deleteFrom('mood_reminders').where('user_id', '=', userId).execute()
    } else {
      await db.insertInto('mood_reminders').values({ user_id: userId, local_time: time, timezone })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ local_time: time, timezone, updated_at: sql<Date>`now()` })).execute()
    }
    return { time, timezone }
  })
}
