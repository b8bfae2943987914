import { createHmac } from 'node:crypto'
import t from 'tap'
import { SECRET, eventsubSetup, goodReceiver, helixSend, startReceiver, subscribe, subscriptionBody, until, type Received } from './eventsub-helpers.js'
import { TWITCH, helix, json, startSim, twitchLogin } from './helpers.js'

const fast = { retryDelaysMs: [20, 20], timeoutMs: 2_000 }

function expectedSignature (message: Received, secret = SECRET): string {
  const id = String(message.headers['twitch-eventsub-message-id'])
  const timestamp = String(message.headers['twitch-eventsub-message-timestamp'])
  return `sha256=${createHmac('sha256', secret).update(id + timestamp + message.body).digest('hex')}`
}

const ofType = (received: Received[], type: string) => received.filter((m) => m.type === type)

t.test('creating a subscription: pending, the challenge, then enabled, with its cost and the totals', async (t) => {
  const sim = await startSim(t, { eventsubDelivery: fast })
  const receiver = await startReceiver(t)
  const { app, bigId } = await eventsubSetup(sim)
  const mid = sim.control.expectedTwitch('sim_mid')

  const created = await subscribe(sim, app, subscriptionBody('channel.subscribe', '1', { broadcaster_user_id: bigId }, receiver.url))
  t.equal(created.status, 202)
  t.match(created.body, {
    data: [{ id: /^[0-9a-f-]{36}$/, status: 'webhook_callback_verification_pending', type: 'channel.subscribe', version: '1', condition: { broadcaster_user_id: bigId }, transport: { method: 'webhook', callback: receiver.url }, cost: 0 }],
    total: 1, total_cost: 0, max_total_cost: 10_000
  })
  t.notOk('secret' in created.body.data[0].transport, 'the secret is never echoed')
  const id = created.body.data[0].id

  await until('the challenge', () => ofType(receiver.received, 'webhook_callback_verification').length === 1)
  const challenge = ofType(receiver.received, 'webhook_callback_verification')[0]!
  t.equal(challenge.headers['twitch-eventsub-message-signature'], expectedSignature(challenge), 'the challenge is signed too')
  t.match(JSON.parse(challenge.body), { challenge: /^\w+$/, subscription: { id, status: 'webhook_callback_verification_pending' } })
  await until('enabled', async () => (await json(await helixSend(sim, 'GET', `/eventsub/subscriptions?subscription_id=${id}`, app))).data[0]?.status === 'enabled')

  // A channel nobody authorized costs one point.
  const online = await subscribe(sim, app, subscriptionBody('stream.online', '1', { broadcaster_user_id: mid.userId }, receiver.url))
  t.equal(online.status, 202)
  t.equal(online.body.data[0].cost, 1)
  t.match(online.body, { total: 2, total_cost: 1 })

  const listed = await json(await helixSend(sim, 'GET', '/eventsub/subscriptions', app))
  t.equal(listed.data.length, 2)
  t.match(listed, { total: 2, total_cost: 1, max_total_cost: 10_000, pagination: {} })
  t.equal((await json(await helixSend(sim, 'GET', '/eventsub/subscriptions?type=stream.online', app))).data.length, 1)
  t.equal((await json(await helixSend(sim, 'GET', `/eventsub/subscriptions?user_id=${bigId}`, app))).data.length, 1)
  t.equal((await json(await helixSend(sim, 'GET', '/eventsub/subscriptions?status=enabled', app))).data[0].id, id)

  t.equal((await helixSend(sim, 'DELETE', `/eventsub/subscriptions?id=${id}`, app)).status, 204)
  t.equal((await helixSend(sim, 'DELETE', `/eventsub/subscriptions?id=${id}`, app)).status, 404, 'gone')
  t.match(await json(await helixSend(sim, 'GET', '/eventsub/subscriptions', app)), { total: 1, total_cost: 1 })
})

t.test('Twitch\'s refusals: 400, 401, 403, 409', async (t) => {
  const sim = await startSim(t, { eventsubDelivery: fast })
  const receiver = await startReceiver(t)
  const { app, bigId } = await eventsubSetup(sim)
  const mid = sim.control.expectedTwitch('sim_mid')
  const body = (type: string, version: string, condition: Record<string, string>) => subscriptionBody(type, version, condition, receiver.url)

  const cases: Array<[string, unknown, number, RegExp]> = [
    ['unknown type', body('channel.nothing', '1', { broadcaster_user_id: bigId }), 400, /unsupported subscription type/],
    ['channel.follow v1 is retired', body('channel.follow', '1', { broadcaster_user_id: bigId }), 400, /unsupported version/],
    ['a missing condition key', body('channel.follow', '2', { broadcaster_user_id: bigId }), 400, /invalid condition/],
    ['an extra condition key', body('stream.online', '1', { broadcaster_user_id: bigId, user_id: bigId }), 400, /invalid condition/],
    ['an unknown user', body('stream.online', '1', { broadcaster_user_id: '123' }), 400, /no user/],
    ['another client id', body('user.authorization.revoke', '1', { client_id: 'someoneelse' }), 400, /client_id/],
    ['no type', { version: '1', condition: {}, transport: { method: 'webhook', callback: receiver.url, secret: SECRET } }, 400, /"type"/],
    ['a short secret', subscriptionBody('stream.online', '1', { broadcaster_user_id: bigId }, receiver.url, 'short'), 400, /secret/],
    ['a relative callback', subscriptionBody('stream.online', '1', { broadcaster_user_id: bigId }, '/webhooks'), 400, /callback/],
    ['the websocket transport', { ...body('stream.online', '1', { broadcaster_user_id: bigId }), transport: { method: 'websocket', session_id: 'x' } }, 400, /webhook/],
    ['a channel that did not authorize the app', body('channel.subscribe', '1', { broadcaster_user_id: mid.userId }), 403, /authorization/]
  ]
  for (const [name, request, status, message] of cases) {
    const res = await subscribe(sim, app, request)
    t.equal(res.status, status, name)
    t.match(res.body, { error: /\w/, status, message }, name)
  }

  // sim_chatty authorized the follow scope but moderates nobody's channel but its own.
  await twitchLogin(sim, 'sim_chatty', ['moderator:read:followers'])
  const chatty = sim.control.expectedTwitch('sim_chatty')
  t.equal((await subscribe(sim, app, body('channel.follow', '2', { broadcaster_user_id: bigId, moderator_user_id: chatty.userId }))).status, 403, 'not a moderator')
  t.equal((await subscribe(sim, app, body('channel.follow', '2', { broadcaster_user_id: chatty.userId, moderator_user_id: chatty.userId }))).status, 202, 'its own channel')

  const user = (await twitchLogin(sim, 'sim_big', ['channel:read:subscriptions'])).access_token
  t.equal((await subscribe(sim, user, body('stream.online', '1', { broadcaster_user_id: bigId }))).status, 400, 'a user token cannot make webhook subscriptions')
  t.equal((await subscribe(sim, 'nonsense', body('stream.online', '1', { broadcaster_user_id: bigId }))).status, 401, 'a bad token')
  t.equal((await fetch(`${sim.twitchApiUrl}/eventsub/subscriptions`, { method: 'POST' })).status, 401, 'no token')

  t.equal((await subscribe(sim, app, body('stream.online', '1', { broadcaster_user_id: bigId }))).status, 202)
  const duplicate = await subscribe(sim, app, body('stream.online', '1', { broadcaster_user_id: bigId }))
  t.equal(duplicate.status, 409)
  t.match(duplicate.body, { error: 'Conflict', message: 'subscription already exists' })

  t.equal((await helixSend(sim, 'GET', '/eventsub/subscriptions?type=stream.online&status=enabled', app)).status, 400, 'one filter at a time')
  t.equal((await helixSend(sim, 'GET', '/eventsub/subscriptions?status=Enabled', app)).status, 400, 'statuses are case-sensitive')
  t.equal((await helixSend(sim, 'DELETE', '/eventsub/subscriptions', app)).status, 400, 'DELETE needs an id')
})

t.test('a callback that does not echo the challenge as text/plain fails verification', async (t) => {
  const sim = await startSim(t, { eventsubDelivery: fast })
  const { app, bigId } = await eventsubSetup(sim)
  const answers: Array<[string, (challenge: string) => { status: number, body?: string, contentType?: string }]> = [
    ['a wrong body', () => ({ status: 200, body: 'nope', contentType: 'text/plain' })],
    ['JSON instead of text', (c) => ({ status: 200, body: JSON.stringify(c), contentType: 'application/json' })],
    ['an error status', (c) => ({ status: 500, body: c, contentType: 'text/plain' })]
  ]
  for (const [name, answer] of answers) {
    const receiver = await startReceiver(t, (m) => answer(JSON.parse(m.body).challenge))
    const created = await subscribe(sim, app, subscriptionBody('stream.offline', '1', { broadcaster_user_id: bigId }, receiver.url))
    const id = created.body.data[0].id
    await until(`${name}: failed`, async () => (await json(await helixSend(sim, 'GET', `/eventsub/subscriptions?subscription_id=${id}`, app))).data[0]?.status === 'webhook_callback_verification_failed')
    t.pass(name)
  }
  t.match(await json(await helixSend(sim, 'GET', '/eventsub/subscriptions', app)), { total: 3, total_cost: 0 }, 'failed subscriptions cost nothing')
})

t.test('notifications are signed, carry every header, and have Twitch\'s event shapes', async (t) => {
  const sim = await startSim(t, { eventsubDelivery: fast })
  const receiver = await startReceiver(t)
  const { app, bigId } = await eventsubSetup(sim)
  const types: Array<[string, string, Record<string, string>]> = [
    ['channel.follow', '2', { broadcaster_user_id: bigId, moderator_user_id: bigId }],
    ['channel.subscribe', '1', { broadcaster_user_id: bigId }],
    ['channel.subscription.gift', '1', { broadcaster_user_id: bigId }],
    ['channel.cheer', '1', { broadcaster_user_id: bigId }],
    ['stream.online', '1', { broadcaster_user_id: bigId }],
    ['stream.offline', '1', { broadcaster_user_id: bigId }]
  ]
  for (const [type, version, condition] of types) t.equal((await subscribe(sim, app, subscriptionBody(type, version, condition, receiver.url))).status, 202, type)
  await until('all enabled', async () => (await json(await helixSend(sim, 'GET', '/eventsub/subscriptions?status=enabled', app))).data.length === types.length)

  t.same(await sim.control.follow('sim_big', 'sim_mid'), { delivered: 1 })
  await sim.control.subscribe('sim_big', '2000')
  t.same(await sim.control.gift('sim_big', 3, '1000', { anonymous: true }), { delivered: 4 }, 'the gift and one subscribe per gifted sub')
  await sim.control.cheer('sim_big', 250, { user: 'sim_mid', message: 'Cheer250 gg' })
  await sim.control.streamOnline('sim_big', 1234)
  await sim.control.streamOffline('sim_big')
  await sim.control.deliveriesSettled()
  const notifications = ofType(receiver.received, 'notification')
  t.equal(notifications.length, 9)

  for (const message of notifications) {
    const h = message.headers
    t.equal(h['twitch-eventsub-message-signature'], expectedSignature(message), 'HMAC-SHA256 of id + timestamp + body')
    t.match(h['twitch-eventsub-message-id'], /^[0-9a-f-]{36}$/)
    t.equal(h['twitch-eventsub-message-retry'], '0')
    t.ok(Math.abs(Date.parse(String(h['twitch-eventsub-message-timestamp'])) - Date.now()) < 60_000, 'a current timestamp')
    t.match(h['twitch-eventsub-message-timestamp'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/)
    const body = JSON.parse(message.body)
    t.equal(h['twitch-eventsub-subscription-type'], body.subscription.type)
    t.equal(h['twitch-eventsub-subscription-version'], body.subscription.version)
  }
  const events = (type: string) => notifications.filter((m) => m.headers['twitch-eventsub-subscription-type'] === type).map((m) => JSON.parse(m.body).event)
  const mid = sim.control.expectedTwitch('sim_mid')
  const broadcaster = { broadcaster_user_id: bigId, broadcaster_user_login: 'sim_big' }
  t.match(events('channel.follow'), [{ user_id: mid.userId, user_login: 'sim_mid', user_name: mid.displayName, ...broadcaster, followed_at: /Z$/ }])
  t.match(events('channel.subscribe'), [{ ...broadcaster, tier: '2000', is_gift: false, user_id: /^\d+$/ }, { tier: '1000', is_gift: true }, { is_gift: true }, { is_gift: true }])
  t.match(events('channel.subscription.gift'), [{ ...broadcaster, total: 3, tier: '1000', is_anonymous: true, user_id: null, cumulative_total: null }])
  t.match(events('channel.cheer'), [{ ...broadcaster, bits: 250, message: 'Cheer250 gg', is_anonymous: false, user_login: 'sim_mid' }])
  t.match(events('stream.online'), [{ ...broadcaster, type: 'live', id: /^\d+$/, started_at: /Z$/ }])
  t.same(Object.keys(events('stream.offline')[0]).sort(), ['broadcaster_user_id', 'broadcaster_user_login', 'broadcaster_user_name'])
})

t.test('streams started and ended through the control show in Get Streams with their viewers', async (t) => {
  const sim = await startSim(t)
  const { app, bigId } = await eventsubSetup(sim)
  const live = async () => (await json(await helix(sim, `/streams?user_id=${bigId}`, app))).data
  await sim.control.streamOnline('sim_big', 1200, '509658')
  t.match(await live(), [{ user_id: bigId, viewer_count: 1200, game_id: '509658', type: 'live' }])
  sim.control.setViewers('sim_big', 1800)
  t.equal((await live())[0].viewer_count, 1800)
  await sim.control.streamOffline('sim_big')
  t.same(await live(), [])
  t.throws(() => sim.control.setViewers('sim_big', 5), /not live/)

  const res = await fetch(`${sim.url}/_sim/stream/online`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ broadcaster: 'sim_big', viewers: 42 }) })
  t.same(await json(res), { delivered: 0 })
  t.equal((await live())[0].viewer_count, 42, 'over HTTP too')
  t.equal((await fetch(`${sim.url}/_sim/stream/online`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ broadcaster: 'nobody', viewers: 1 }) })).status, 404)
  t.equal((await fetch(`${sim.url}/_sim/eventsub/cheer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ broadcaster: 'sim_big', bits: 0 }) })).status, 400)
})

t.test('a failing callback gets retries with the same message id, then the subscription is revoked', async (t) => {
  const sim = await startSim(t, { eventsubDelivery: fast })
  const receiver = await startReceiver(t)
  const { app, bigId } = await eventsubSetup(sim)
  const created = await subscribe(sim, app, subscriptionBody('channel.cheer', '1', { broadcaster_user_id: bigId }, receiver.url))
  const id = created.body.data[0].id
  await until('enabled', async () => (await json(await helixSend(sim, 'GET', `/eventsub/subscriptions?subscription_id=${id}`, app))).data[0]?.status === 'enabled')

  receiver.setAnswer((m) => m.type === 'notification' ? { status: 500 } : goodReceiver(m))
  await sim.control.cheer('sim_big', 100)
  await sim.control.deliveriesSettled()
  const attempts = ofType(receiver.received, 'notification')
  t.same(attempts.map((m) => m.headers['twitch-eventsub-message-retry']), ['0', '1', '2'])
  t.equal(new Set(attempts.map((m) => m.headers['twitch-eventsub-message-id'])).size, 1, 'a retry keeps its message id')
  t.equal((await json(await helixSend(sim, 'GET', `/eventsub/subscriptions?subscription_id=${id}`, app))).data[0].status, 'notification_failures_exceeded')
  const revocations = ofType(receiver.received, 'revocation')
  t.equal(revocations.length, 1)
  t.match(JSON.parse(revocations[0]!.body), { subscription: { id, status: 'notification_failures_exceeded', type: 'channel.cheer' } })
  t.equal(revocations[0]!.headers['twitch-eventsub-message-signature'], expectedSignature(revocations[0]!))
  t.notOk('event' in JSON.parse(revocations[0]!.body))

  t.match(sim.control.deliveries().filter((d) => d.messageType === 'notification'), [{ status: 500, retry: 0 }, { status: 500, retry: 1 }, { status: 500, retry: 2 }])
})

t.test('revoking a user\'s authorization: user.authorization.revoke, subscriptions revoked, tokens dead', async (t) => {
  const sim = await startSim(t, { eventsubDelivery: fast })
  const receiver = await startReceiver(t)
  const { app, bigId } = await eventsubSetup(sim)
  const token = (await twitchLogin(sim, 'sim_big', ['channel:read:subscriptions'])).access_token
  const clientId = TWITCH.clientId
  const made = [
    await subscribe(sim, app, subscriptionBody('user.authorization.revoke', '1', { client_id: clientId }, receiver.url)),
    await subscribe(sim, app, subscriptionBody('channel.subscribe', '1', { broadcaster_user_id: bigId }, receiver.url)),
    await subscribe(sim, app, subscriptionBody('stream.online', '1', { broadcaster_user_id: bigId }, receiver.url))
  ]
  t.same(made.map((m) => m.status), [202, 202, 202])
  t.equal(made[0]!.body.data[0].cost, 1, 'the app-wide type costs a point')
  await until('all enabled', async () => (await json(await helixSend(sim, 'GET', '/eventsub/subscriptions?status=enabled', app))).data.length === 3)

  const res = await fetch(`${sim.url}/_sim/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ provider: 'twitch', login: 'sim_big' }) })
  t.equal(res.status, 204)
  await sim.control.deliveriesSettled()

  const revoke = ofType(receiver.received, 'notification').filter((m) => m.headers['twitch-eventsub-subscription-type'] === 'user.authorization.revoke')
  t.equal(revoke.length, 1)
  t.same(JSON.parse(revoke[0]!.body).event, { client_id: clientId, user_id: bigId, user_login: 'sim_big', user_name: sim.control.expectedTwitch('sim_big').displayName })
  const revocations = ofType(receiver.received, 'revocation').map((m) => JSON.parse(m.body).subscription)
  t.match(revocations, [{ type: 'channel.subscribe', status: 'authorization_revoked' }])
  const statuses = Object.fromEntries((await json(await helixSend(sim, 'GET', '/eventsub/subscriptions', app))).data.map((s: { type: string, status: string }) => [s.type, s.status]))
  t.same(statuses, { 'user.authorization.revoke': 'enabled', 'channel.subscribe': 'authorization_revoked', 'stream.online': 'enabled' })
  t.equal((await helix(sim, '/users', token)).status, 401, 'the user\'s tokens are dead')
  t.equal((await fetch(`${sim.twitchAuthUrl}/validate`, { headers: { Authorization: `OAuth ${token}` } })).status, 401)
})

t.test('misbehaving deliveries: bad signatures, stale timestamps, duplicate ids', async (t) => {
  const sim = await startSim(t, { eventsubDelivery: fast })
  const receiver = await startReceiver(t)
  const { app, bigId } = await eventsubSetup(sim)
  await subscribe(sim, app, subscriptionBody('channel.cheer', '1', { broadcaster_user_id: bigId }, receiver.url))
  await until('enabled', async () => (await json(await helixSend(sim, 'GET', '/eventsub/subscriptions?status=enabled', app))).data.length === 1)
  const next = async () => {
    const before = ofType(receiver.received, 'notification').length
    await sim.control.cheer('sim_big', 1)
    await sim.control.deliveriesSettled()
    return ofType(receiver.received, 'notification').slice(before)
  }

  const httpMode = (mode: string) => fetch(`${sim.url}/_sim/eventsub/mode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode }) })
  t.equal((await httpMode('bad-signature')).status, 204)
  let [message] = await next()
  t.not(message!.headers['twitch-eventsub-message-signature'], expectedSignature(message!))
  t.match(message!.headers['twitch-eventsub-message-signature'], /^sha256=[0-9a-f]{64}$/, 'well formed, but wrong')

  sim.control.setDeliveryMode('stale-timestamp');
  [message] = await next()
  t.equal(message!.headers['twitch-eventsub-message-signature'], expectedSignature(message!), 'signed correctly')
  t.ok(Date.now() - Date.parse(String(message!.headers['twitch-eventsub-message-timestamp'])) > 10 * 60_000, 'older than ten minutes')

  sim.control.setDeliveryMode('duplicate-id')
  const twice = await next()
  t.equal(twice.length, 2)
  t.equal(twice[0]!.headers['twitch-eventsub-message-id'], twice[1]!.headers['twitch-eventsub-message-id'])

  t.equal((await httpMode('normal')).status, 204)
  t.equal((await next()).length, 1)
  t.equal((await httpMode('chaos')).status, 400)
})
