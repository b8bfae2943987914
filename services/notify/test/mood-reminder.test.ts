import { MoodDayRpcV1, type MoodDayReply } from '@pulse/contracts'
import { answerRequests } from '@pulse/service-kit'
import { startSmtpServer } from '@pulse/testing'
import t from 'tap'
import { localClock } from '../src/reminders.js'
import { build, eventually, fakeAuth, recipient, userHeader, type Built } from './helper.js'

/** Waits until every replica has finished two rounds since now (so one of them saw the clock as it is). */
async function roundsPass (...apps: Built[]): Promise<void> {
  const targets = apps.map((a) => a.inner.reminders.rounds + 2)
  await eventually(() => apps.every((a, i) => a.inner.reminders.rounds >= targets[i]!))
}

t.test('local clocks: Intl\'s time zones, DST included', async (t) => {
  t.same(localClock(Date.parse('2026-03-28T19:00:00Z'), 'Europe/Berlin'), { day: '2026-03-28', minute: 20 * 60 }, 'CET is UTC+1')
  t.same(localClock(Date.parse('2026-03-29T18:00:00Z'), 'Europe/Berlin'), { day: '2026-03-29', minute: 20 * 60 }, 'CEST is UTC+2 from 29 March')
  t.same(localClock(Date.parse('2026-03-29T01:30:00Z'), 'Europe/Berlin'), { day: '2026-03-29', minute: 3 * 60 + 30 }, '02:00–03:00 does not exist that night')
  t.same(localClock(Date.parse('2026-03-08T12:00:00Z'), 'America/New_York'), { day: '2026-03-08', minute: 8 * 60 }, 'EDT from 8 March')
})

t.test('daily reminders across a DST change in two time zones: on time, once with two replicas, none once the day is logged', async (t) => {
  const smtp = await startSmtpServer(t)
  let now = Date.parse('2026-03-07T12:00:00Z')
  const clock = () => now
  const env = { SMTP_URL: smtp.url, NOTIFY_REMINDER_POLL_MS: '30' }
  const one = await build(t, { env, now: clock })
  const two = await build(t, { env, now: clock, sameAs: one })
  const berlin = recipient({ email: 'berlin@example.com', timezone: 'Europe/Berlin' })
  const newYork = recipient({ email: 'newyork@example.com', timezone: 'America/New_York' })
  const auth = await fakeAuth(t, one.config.NATS_PREFIX, [berlin, newYork])
  // What mood answers: the days each user logged.
  const logged = new Set<string>()
  const mood = await answerRequests(auth.bus, MoodDayRpcV1, {
    handle: async ({ userId, day }): Promise<MoodDayReply> => ({ ok: true, logged: logged.has(`${userId}/${day}`) }),
    refuse: (): MoodDayReply => ({ ok: false, error: 'invalid', message: 'invalid' })
  })
  t.teardown(() => mood.close())

  const set = await one.app.inject({ method: 'PUT', url: '/notify/mood-reminder', headers: userHeader('user', berlin.userId, 'Europe/Berlin'), payload: { time: '20:00' } })
  t.same(set.json(), { time: '20:00', timezone: 'Europe/Berlin' })
  await one.app.inject({ method: 'PUT', url: '/notify/mood-reminder', headers: userHeader('user', newYork.userId, 'America/New_York'), payload: { time: '08:00' } })
  const mailsTo = (to: string) => smtp.mails.filter((m) => m.to.includes(to))

  // New York, 7 March (EST, UTC-5): 08:00 is 13:00Z.
  now = Date.parse('2026-03-07T12:59:00Z')
  await roundsPass(one, two)
  t.equal(mailsTo('newyork@example.com').length, 0, '07:59 in New York: not yet')
  now = Date.parse('2026-03-07T13:00:00Z')
  t.ok(await eventually(() => mailsTo('newyork@example.com').length === 1), '08:00 EST: the reminder')
  t.equal(smtp.mails[0]!.subject, 'How was your day?')
  now = Date.parse('2026-03-07T20:00:00Z')
  await roundsPass(one, two)
  t.equal(mailsTo('newyork@example.com').length, 1, 'once that day, with two replicas running')
  t.ok(await eventually(() => mailsTo('berlin@example.com').length === 1), 'Berlin: 21:00 on 7 March, after its 20:00')

  // New York, 8 March (EDT from 02:00, UTC-4): 08:00 is 12:00Z.
  now = Date.parse('2026-03-08T11:59:00Z')
  await roundsPass(one, two)
  t.equal(mailsTo('newyork@example.com').length, 1, '07:59 EDT: not yet')
  now = Date.parse('2026-03-08T12:00:00Z')
  t.ok(await eventually(() => mailsTo('newyork@example.com').length === 2), '08:00 EDT on the day of the change: on time')

  // Berlin, 28 March (CET): 20:00 is 19:00Z; the entry is already logged: nothing.
  logged.add(`${berlin.userId}/2026-03-28`)
  now = Date.parse('2026-03-28T19:00:00Z')
  await roundsPass(one, two)
  t.equal(mailsTo('berlin@example.com').length, 1, 'no reminder for a day already logged')
  const row = await one.db.selectFrom('reminders_sent').select('outcome').where('user_id', '=', berlin.userId).orderBy('local_date', 'desc').executeTakeFirstOrThrow()
  t.equal(row.outcome, 'already_logged')

  // Berlin, 29 March (CEST from 02:00, UTC+2): 20:00 is 18:00Z.
  now = Date.parse('2026-03-29T17:59:00Z')
  await roundsPass(one, two)
  t.equal(mailsTo('berlin@example.com').length, 1, '19:59 CEST: not yet')
  now = Date.parse('2026-03-29T18:00:00Z')
  t.ok(await eventually(() => mailsTo('berlin@example.com').length === 2), '20:00 CEST on the day of the change: on time')
  now = Date.parse('2026-03-29T21:59:00Z')
  await roundsPass(one, two)
  t.equal(mailsTo('berlin@example.com').length, 2, 'once')

  // Removed: no more reminders.
  await one.app.inject({ method: 'PUT', url: '/notify/mood-reminder', headers: userHeader('user', berlin.userId, 'Europe/Berlin'), payload: { time: null } })
  now = Date.parse('2026-03-30T19:00:00Z')
  await roundsPass(one, two)
  t.equal(mailsTo('berlin@example.com').length, 2, 'none once removed')
  t.same((await one.app.inject({ url: '/notify/mood-reminder', headers: userHeader('user', berlin.userId, 'Europe/Berlin') })).json(), { time: null, timezone: 'Europe/Berlin' })
})

t.test('while mood cannot answer, the reminder waits for the next round', async (t) => {
  const smtp = await startSmtpServer(t)
  const now = Date.parse('2026-05-01T10:00:00Z')
  const app = await build(t, { env: { SMTP_URL: smtp.url, NOTIFY_REMINDER_POLL_MS: '30', NOTIFY_RECIPIENTS_TIMEOUT_MS: '200' }, now: () => now })
  const ada = recipient({ email: 'ada@example.com' })
  const auth = await fakeAuth(t, app.config.NATS_PREFIX, [ada])
  await app.app.inject({ method: 'PUT', url: '/notify/mood-reminder', headers: userHeader('user', ada.userId), payload: { time: '09:00' } })
  await roundsPass(app)
  t.equal(smtp.mails.length, 0, 'nobody answers for mood: nothing sent, nothing recorded')
  t.equal((await app.db.selectFrom('reminders_sent').selectAll().execute()).length, 0)
  const mood = await answerRequests(auth.bus, MoodDayRpcV1, {
    handle: async (): Promise<MoodDayReply> => ({ ok: true, logged: false }),
    refuse: (): MoodDayReply => ({ ok: false, error: 'invalid', message: 'invalid' })
  })
  t.teardown(() => mood.close())
  t.ok(await eventually(() => smtp.mails.length === 1), 'sent once mood answers')
})

t.test('the reminder\'s time is validated', async (t) => {
  const { app } = await build(t)
  for (const time of ['24:00', '7:00', '07:60', 'noon', 7]) {
    const res = await app.inject({ method: 'PUT', url: '/notify/mood-reminder', headers: userHeader('user'), payload: { time } })
    t.equal(res.statusCode, 400, `${String(time)} is refused`)
    t.match(res.json().message, /body\/time/)
  }
})
