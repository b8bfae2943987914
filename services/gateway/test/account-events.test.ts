import { AUTH_STREAM, ExportReadyV1, METRICS_STREAM, NOTIFY_STREAM, NotificationV1, TwitchRefreshedV1 } from '@pulse/contracts'
import t from 'tap'
import { openEventStream as openStream, registeredUser, stackBus, startStack } from './helper.js'

t.test('/events tells the user, and only them, that their data export is ready, without disturbing the event ids', async (t) => {
  const stack = await startStack(t)
  const { browser: alice, userId: aliceId } = await registeredUser(stack, 'alice')
  const { browser: bob } = await registeredUser(stack, 'bob')
  const bus = await stackBus(t, stack, 'account-events-test', [METRICS_STREAM, AUTH_STREAM])

  const aliceStream = await openStream(`${stack.gatewayUrl}/events`, { cookie: `pulse_session=${alice.cookie('pulse_session')}` })
  const bobStream = await openStream(`${stack.gatewayUrl}/events`, { cookie: `pulse_session=${bob.cookie('pulse_session')}` })
  t.teardown(async () => { await aliceStream.close(); await bobStream.close() })
  t.ok(await aliceStream.waitFor(/: connected/))
  t.ok(await bobStream.waitFor(/: connected/))

  const expiresAt = new Date(Date.now() + 3600_000).toISOString()
  await bus.publish(ExportReadyV1, { userId: aliceId, exportId: 'export-1', expiresAt })
  // A metrics event after it: handled after it on the gateway, so once it arrives the other would have too.
  await bus.publish(TwitchRefreshedV1, { userId: aliceId, provider: 'twitch', capturedAt: new Date().toISOString(), snapshotId: 'marker' })
  t.ok(await aliceStream.waitFor(/event: export\.ready\ndata: \{"exportId":"export-1","expiresAt":"[^"]+"\}\n\n/), 'alice is told, without her user id')
  t.ok(await aliceStream.waitFor(/marker/))
  t.notMatch(aliceStream.text(), /id: [^\n]*\nevent: export\.ready/, 'the export event carries no event id')
  t.notMatch(aliceStream.text(), new RegExp(aliceId), 'the user id is not sent')
  await bus.publish(TwitchRefreshedV1, { userId: aliceId, provider: 'twitch', capturedAt: new Date().toISOString(), snapshotId: 'marker-2' })
  t.ok(await aliceStream.waitFor(/marker-2/))
  t.notMatch(bobStream.text(), /export/, 'bob is not told')
})

t.test('/events hands the user, and only them, the notifications notify sends to their dashboards', async (t) => {
  const stack = await startStack(t)
  const { browser: alice, userId: aliceId } = await registeredUser(stack, 'alice')
  const { browser: bob } = await registeredUser(stack, 'bob')
  const bus = await stackBus(t, stack, 'account-events-test', [NOTIFY_STREAM])
  const aliceStream = await openStream(`${stack.gatewayUrl}/events`, { cookie: `pulse_session=${alice.cookie('pulse_session')}` })
  const bobStream = await openStream(`${stack.gatewayUrl}/events`, { cookie: `pulse_session=${bob.cookie('pulse_session')}` })
  t.teardown(async () => { await aliceStream.close(); await bobStream.close() })
  t.ok(await aliceStream.waitFor(/: connected/))
  t.ok(await bobStream.waitFor(/: connected/))

  const at = new Date().toISOString()
  await bus.publish(NotificationV1, { userId: aliceId, id: 'n-1', kind: 'channel.live', title: 'sim_mid is live', body: 'Playing chess', at })
  t.ok(await aliceStream.waitFor(/event: notification\ndata: \{"id":"n-1","kind":"channel.live","title":"sim_mid is live","body":"Playing chess","at":"[^"]+"\}\n\n/), 'alice gets it, without her user id')
  await bus.publish(NotificationV1, { userId: aliceId, id: 'n-2', kind: 'milestone', title: 'marker', body: '', at })
  t.ok(await aliceStream.waitFor(/marker/))
  t.notMatch(bobStream.text(), /notification/, 'bob does not')
})
