import { METRICS_STREAM, TwitchChannelActivityV1, TwitchConnectionRevokedV1, TwitchRefreshFailedV1, TwitchRefreshedV1, TwitchStreamChangedV1 } from '@pulse/contracts'
import t from 'tap'
import { openEventStream as openStream, registeredUser, stackBus, startStack } from './helper.js'

const refreshed = (userId: string, snapshotId: string) =>
  ({ userId, provider: 'twitch' as const, capturedAt: new Date().toISOString(), snapshotId })

t.test('/events delivers the user\'s own metrics events, heartbeats, and catches up after a reconnect', async (t) => {
  const stack = await startStack(t, { gatewayEnv: { EVENTS_HEARTBEAT_MS: '200' } })
  const { browser: alice, userId: aliceId } = await registeredUser(stack, 'alice')
  const { userId: bobId } = await registeredUser(stack, 'bob')
  const bus = await stackBus(t, stack, 'events-test', [METRICS_STREAM])

  const anonymous = await fetch(`${stack.gatewayUrl}/events`)
  t.equal(anonymous.status, 401, 'logged in only')

  const cookie = `pulse_session=${alice.cookie('pulse_session')}`
  const stream = await openStream(`${stack.gatewayUrl}/events`, { cookie, 'x-request-id': 'sse-1' })
  t.equal(stream.res.status, 200)
  t.match(stream.res.headers.get('content-type'), /^text\/event-stream/)
  t.equal(stream.res.headers.get('x-request-id'), 'sse-1')
  t.ok(await stream.waitFor(/: connected/))

  await bus.publish(TwitchRefreshedV1, refreshed(bobId, 'bob-snapshot-1'))
  await bus.publish(TwitchRefreshedV1, refreshed(aliceId, 'alice-snapshot-1'))
  await bus.publish(TwitchRefreshFailedV1, { userId: aliceId, provider: 'twitch', reason: 'rate_limited', message: 'later', failedAt: new Date().toISOString() })
  t.ok(await stream.waitFor(/event: metrics\.refresh\.failed/), 'the failure arrives')
  t.match(stream.text(), /event: metrics\.refreshed\ndata: .*alice-snapshot-1/)
  t.notMatch(stream.text(), /bob-snapshot-1/, 'never another user\'s events')
  t.notMatch(stream.text(), new RegExp(aliceId), 'the payload does not repeat the user id')
  t.ok(await stream.waitFor(/: heartbeat/), 'heartbeats on an idle connection')
  const ids = [...stream.text().matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
  t.equal(ids.length, 2)
  await stream.close()

  // Another stream of hers stays open: once it has the event, the gateway holds it for replay.
  const watcher = await openStream(`${stack.gatewayUrl}/events`, { cookie })
  await bus.publish(TwitchRefreshedV1, refreshed(aliceId, 'alice-snapshot-2'))
  t.ok(await watcher.waitFor(/alice-snapshot-2/), 'the gateway has received the event')
  await watcher.close()
  const again = await openStream(`${stack.gatewayUrl}/events`, { cookie, 'last-event-id': String(ids[1]) })
  t.ok(await again.waitFor(/alice-snapshot-2/), 'the event missed while disconnected is replayed')
  t.notMatch(again.text(), /alice-snapshot-1/, 'events before Last-Event-ID are not repeated')
  await again.close()
})

t.test('/events carries Twitch EventSub\'s news: activity, stream changes and a revoked connection, to their user only', async (t) => {
  const stack = await startStack(t)
  const { browser: carol, userId: carolId } = await registeredUser(stack, 'carol')
  const { userId: daveId } = await registeredUser(stack, 'dave')
  const bus = await stackBus(t, stack, 'events-test', [METRICS_STREAM])
  const stream = await openStream(`${stack.gatewayUrl}/events`, { cookie: `pulse_session=${carol.cookie('pulse_session')}` })
  t.ok(await stream.waitFor(/: connected/))
  const at = new Date().toISOString()
  await bus.publish(TwitchChannelActivityV1, { userId: daveId, provider: 'twitch', kind: 'cheer', amount: 999, snapshotId: null, at })
  await bus.publish(TwitchChannelActivityV1, { userId: carolId, provider: 'twitch', kind: 'follow', amount: 1, snapshotId: 'carol-follow', at })
  await bus.publish(TwitchStreamChangedV1, { userId: carolId, provider: 'twitch', state: 'online', sessionId: 'carol-session', at })
  await bus.publish(TwitchConnectionRevokedV1, { userId: carolId, provider: 'twitch', revokedAt: at })
  t.ok(await stream.waitFor(/event: connection\.revoked/), 'the revocation arrives')
  t.match(stream.text(), /event: metrics\.activity\ndata: .*carol-follow/)
  t.match(stream.text(), /event: stream\.changed\ndata: .*"state":"online"/)
  t.notMatch(stream.text(), /999/, 'not another user\'s')
  t.notMatch(stream.text(), new RegExp(carolId), 'the user id itself is not repeated')
  await stream.close()
})
