import { randomUUID } from 'node:crypto'
import { ConnectionInvalidatedV1, NOTIFY_STREAM, NotificationV1, TwitchAudienceV1, type EventPayload } from '@pulse/contracts'
import { startSmtpServer } from '@pulse/testing'
import t from 'tap'
import { milestoneOf } from '../src/events/audience.js'
import { build, eventually, fakeAuth, recipient, quiet, userHeader } from './helper.js'

type Audience = EventPayload<typeof TwitchAudienceV1>
const stream = (streamId: string, login: string) => ({ streamId, broadcasterId: `b-${login}`, login, displayName: login.toUpperCase(), title: `${login} plays`, gameName: 'Chess', startedAt: new Date().toISOString() })

t.test('a followed channel going live is announced once, over several refreshes, redeliveries and two replicas; the first refresh is a baseline', async (t) => {
  const smtp = await startSmtpServer(t)
  const one = await build(t, { env: { SMTP_URL: smtp.url } })
  await build(t, { env: { SMTP_URL: smtp.url }, sameAs: one })
  const ada = recipient({ email: 'ada@example.com' })
  const auth = await fakeAuth(t, one.config.NATS_PREFIX, [ada])
  await one.app.inject({ method: 'PATCH', url: '/notify/settings', headers: userHeader('user', ada.userId), payload: { changes: [{ kind: 'channel.live', channel: 'email', enabled: true }] } })
  const live: EventPayload<typeof NotificationV1>[] = []
  await auth.bus.consume([NotificationV1], { durable: 'test-live', stream: NOTIFY_STREAM }, async (p) => { live.push(p as EventPayload<typeof NotificationV1>) })

  const refresh = async (liveFollows: Audience['liveFollows'], followers: number | null = 50) => {
    await auth.bus.publish(TwitchAudienceV1, { userId: ada.userId, snapshotId: randomUUID(), capturedAt: new Date().toISOString(), followers, subscribers: null, liveFollows }, { msgID: randomUUID() })
  }
  await refresh([stream('s-1', 'already_live')])
  t.ok(await quiet(one), 'notify has nothing left to do')
  t.equal(smtp.mails.length, 0, 'what is live at the first refresh is not announced')
  await refresh([stream('s-1', 'already_live'), stream('s-2', 'sim_big')])
  t.ok(await eventually(() => smtp.mails.length === 1 && live.length === 1))
  for (let i = 0; i < 3; i++) await refresh([stream('s-2', 'sim_big'), stream('s-1', 'already_live')])
  t.ok(await quiet(one), 'notify has nothing left to do')
  t.equal(smtp.mails.length, 1, 'one mail for the stream, whatever the refreshes and replicas')
  t.equal(live.length, 1, 'one live notification')
  t.match(smtp.mails[0]!, { subject: 'SIM_BIG is live', to: ['ada@example.com'] })
  t.match(smtp.mails[0]!.text, 'sim_big plays (Chess)')
  t.match(live[0], { userId: ada.userId, kind: 'channel.live', title: 'SIM_BIG is live' })

  await refresh([])
  await refresh([stream('s-3', 'sim_big')])
  t.ok(await eventually(() => live.length === 2), 'a new stream of the same channel is announced')
})

t.test('milestones: each is announced once, only upwards, never for what was reached before the first refresh', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { env: { SMTP_URL: smtp.url } })
  const ada = recipient({ email: 'ada@example.com' })
  const auth = await fakeAuth(t, app.config.NATS_PREFIX, [ada])
  const refresh = async (followers: number | null, subscribers: number | null = null) => {
    await auth.bus.publish(TwitchAudienceV1, { userId: ada.userId, snapshotId: randomUUID(), capturedAt: new Date().toISOString(), followers, subscribers, liveFollows: [] }, { msgID: randomUUID() })
  }
  await refresh(950, 120)
  await refresh(999, 130)
  t.ok(await quiet(app), 'notify has nothing left to do')
  t.equal(smtp.mails.length, 0, 'the baseline and the 100 subscribers reached before it are not announced')
  await refresh(1001, 130)
  t.ok(await eventually(() => smtp.mails.length === 1))
  t.equal(smtp.mails[0]!.subject, 'Your Twitch channel passed 1,000 followers')
  await refresh(990, 130)
  await refresh(1010, 130)
  await refresh(12_345, 1000)
  t.ok(await eventually(() => smtp.mails.length === 3))
  t.ok(await quiet(app), 'notify has nothing left to do')
  t.same(smtp.mails.map((m) => m.subject).slice(1).sort(), ['Your Twitch channel passed 1,000 subscribers', 'Your Twitch channel passed 10,000 followers'], 'falling back and passing 1,000 again says nothing; the next milestones are announced')
  t.equal(milestoneOf(null), null)
  t.equal(milestoneOf(99), null)
  t.equal(milestoneOf(100), 100)
  t.equal(milestoneOf(999_999), 100_000)
  t.equal(milestoneOf(1_000_000), 1_000_000)
})

t.test('a broken connection is announced once, with what to do', async (t) => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { env: { SMTP_URL: smtp.url } })
  const ada = recipient({ email: 'ada@example.com' })
  const auth = await fakeAuth(t, app.config.NATS_PREFIX, [ada])
  const event = { userId: ada.userId, provider: 'twitch' as const, reason: 'authorization_revoked', invalidatedAt: new Date().toISOString() }
  await auth.bus.publish(ConnectionInvalidatedV1, event, { msgID: 'one' })
  await auth.bus.publish(ConnectionInvalidatedV1, event, { msgID: 'two' })
  t.ok(await eventually(() => smtp.mails.length === 1))
  t.ok(await quiet(app), 'notify has nothing left to do')
  t.equal(smtp.mails.length, 1)
  t.equal(smtp.mails[0]!.subject, 'Your Twitch connection stopped working')
  t.match(smtp.mails[0]!.text, 'taken back at Twitch')
  t.match(smtp.mails[0]!.text, 'connect Twitch again')
  t.match(smtp.mails[0]!.text, 'https://pulse.example/dashboard/settings')
  await auth.bus.publish(ConnectionInvalidatedV1, { ...event, provider: 'twitter', reason: 'refresh failed', invalidatedAt: new Date().toISOString() })
  t.ok(await eventually(() => smtp.mails.length === 2))
  t.match(smtp.mails[1]!.text, 'X no longer accepts')
})
