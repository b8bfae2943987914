import { randomUUID } from 'node:crypto'
import { startSmtpServer } from '@pulse/testing'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { retryDelay } from '../src/deliveries/worker.js'
import { sendWebhook } from '../src/webhooks/client.js'
import { checkTarget, isPublicAddress } from '../src/webhooks/address-policy.js'
import { build, eventually, fakeAuth, recipient, quiet, startReceiver, userHeader } from './helper.js'

const LOCAL = { NOTIFY_WEBHOOKS_ALLOW_PRIVATE: 'true' }

async function addEndpoint (app: Awaited<ReturnType<typeof build>>['app'], userId: string, url: string) {
  const res = await app.inject({ method: 'POST', url: '/notify/webhooks', headers: userHeader('user', userId), payload: { url } })
  if (res.statusCode !== 201) throw new Error(`${res.statusCode} ${res.body}`)
  return res.json() as { secret: string, endpoint: { id: string, url: string } }
}

t.test('endpoints: created with a secret shown once, listed, changed, removed; only their owner sees them; bad input names the field', async (t) => {
  const { app } = await build(t, { env: LOCAL })
  const owner = randomUUID()
  const { secret, endpoint } = await addEndpoint(app, owner, 'http://127.0.0.1:9/hooks')
  const list = await app.inject({ url: '/notify/webhooks', headers: userHeader('user', owner) })
  t.equal(list.statusCode, 200)
  t.match(list.json(), { items: [{ id: endpoint.id, url: 'http://127.0.0.1:9/hooks', enabled: true, failingSince: null }] })
  t.notOk(list.body.includes(secret), 'the secret is never listed')
  t.notOk((await app.inject({ url: `/notify/webhooks/${endpoint.id}`, headers: userHeader('user', owner) })).body.includes('whsec_'))

  t.equal((await app.inject({ url: `/notify/webhooks/${endpoint.id}`, headers: userHeader('user') })).statusCode, 404, 'another user\'s endpoint does not exist for them')
  t.equal((await app.inject({ method: 'DELETE', url: `/notify/webhooks/${endpoint.id}`, headers: userHeader('user') })).statusCode, 404)
  t.equal((await app.inject({ url: '/notify/webhooks' })).statusCode, 401, 'not logged in')

  const patched = await app.inject({ method: 'PATCH', url: `/notify/webhooks/${endpoint.id}`, headers: userHeader('user', owner), payload: { description: 'chat', enabled: false } })
  t.match(patched.json(), { description: 'chat', enabled: false, disabledReason: 'disabled by its owner' })
  t.equal((await app.inject({ method: 'POST', url: `/notify/webhooks/${endpoint.id}/test`, headers: userHeader('user', owner) })).statusCode, 409, 'no test event to a disabled endpoint')

  const bad = await app.inject({ method: 'POST', url: '/notify/webhooks', headers: userHeader('user', owner), payload: { url: 'ftp://example.com/' } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { code: 'NOTIFY_URL_REFUSED', message: /^body\/url: / })
  const extra = await app.inject({ method: 'POST', url: '/notify/webhooks', headers: userHeader('user', owner), payload: { url: 'https://example.com/', secret: 'mine' } })
  t.equal(extra.statusCode, 400, 'unknown properties are refused')
  const badId = await app.inject({ url: '/notify/webhooks/not-a-uuid', headers: userHeader('user', owner) })
  t.equal(badId.statusCode, 400)
  t.match(badId.json().message, /id/)

  t.equal((await app.inject({ method: 'DELETE', url: `/notify/webhooks/${endpoint.id}`, headers: userHeader('user', owner) })).statusCode, 204)
  t.same((await app.inject({ url: '/notify/webhooks', headers: userHeader('user', owner) })).json(), { items: [] })
})

t.test('a test event is signed; after a rotation both the new and (for a day) the previous secret verify it', async (t) => {
  const { app } = await build(t, { env: LOCAL })
  const receiver = await startReceiver(t)
  const owner = randomUUID()
  const { secret, endpoint } = await addEndpoint(app, owner, receiver.url)
  const sent = await app.inject({ method: 'POST', url: `/notify/webhooks/${endpoint.id}/test`, headers: userHeader('user', owner) })
  t.equal(sent.statusCode, 202)
  t.ok(await eventually(() => receiver.received.length === 1))
  const first = receiver.received[0]!
  t.match(new Webhook(secret).verify(first.body, first.headers as Record<string, string>), { type: 'webhook.test' })
  t.equal(first.headers['webhook-id'], `msg_${(sent.json() as { deliveryId: string }).deliveryId}`)

  const rotated = await app.inject({ method: 'POST', url: `/notify/webhooks/${endpoint.id}/rotate-secret`, headers: userHeader('user', owner) })
  t.equal(rotated.statusCode, 200)
  const newSecret = (rotated.json() as { secret: string }).secret
  t.not(newSecret, secret)
  await app.inject({ method: 'POST', url: `/notify/webhooks/${endpoint.id}/test`, headers: userHeader('user', owner) })
  t.ok(await eventually(() => receiver.received.length === 2))
  const second = receiver.received[1]!
  t.equal(String(second.headers['webhook-signature']).split(' ').length, 2, 'two signatures during the overlap')
  t.ok(new Webhook(newSecret).verify(second.body, second.headers as Record<string, string>), 'the new secret verifies')
  t.ok(new Webhook(secret).verify(second.body, second.headers as Record<string, string>), 'the previous one still does')
})

t.test('a receiver answering 500 gets the delivery again, with growing delays, once it recovers', async (t) => {
  const built = await build(t, { env: LOCAL })
  const { app } = built
  const receiver = await startReceiver(t, (n) => n <= 2 ? 500 : 200)
  const owner = randomUUID()
  const { secret, endpoint } = await addEndpoint(app, owner, receiver.url)
  await app.inject({ method: 'POST', url: `/notify/webhooks/${endpoint.id}/test`, headers: userHeader('user', owner) })
  t.ok(await eventually(() => receiver.received.length === 3))
  t.ok(await quiet(built), 'notify has nothing left to do')
  t.equal(receiver.received.length, 3, 'nothing more after the 200')
  const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']))
  t.equal(ids.size, 1, 'every attempt carries the same webhook-id')
  for (const r of receiver.received) t.ok(new Webhook(secret).verify(r.body, r.headers as Record<string, string>), 'each attempt is signed afresh')
  const log = await app.inject({ url: `/notify/webhooks/${endpoint.id}/deliveries`, headers: userHeader('user', owner) })
  t.match(log.json(), { items: [{ status: 'sent', attempts: [{ attempt: 1, statusCode: 500, error: 'answered 500' }, { attempt: 2, statusCode: 500 }, { attempt: 3, statusCode: 200, error: null }] }] })
  const endpointNow = await app.inject({ url: `/notify/webhooks/${endpoint.id}`, headers: userHeader('user', owner) })
  t.match(endpointNow.json(), { enabled: true, failingSince: null }, 'a success ends the failure streak')
})

t.test('retry delays double up to the maximum, with jitter', async (t) => {
  t.equal(retryDelay(1, 1000, 60_000, () => 1), 1000)
  t.equal(retryDelay(1, 1000, 60_000, () => 0), 500, 'jitter takes up to half off')
  t.equal(retryDelay(3, 1000, 60_000, () => 1), 4000)
  t.equal(retryDelay(40, 1000, 60_000, () => 1), 60_000, 'capped')
})

t.test('an endpoint that never recovers is disabled, its owner mailed once, and nothing more is sent to it', async (t) => {
  const smtp = await startSmtpServer(t)
  const built = await build(t, { env: { ...LOCAL, SMTP_URL: smtp.url, NOTIFY_WEBHOOK_DISABLE_AFTER_MS: '800' } })
  const owner = recipient({ email: 'owner@example.com' })
  await fakeAuth(t, built.config.NATS_PREFIX, [owner])
  const receiver = await startReceiver(t, () => 503)
  const { endpoint } = await addEndpoint(built.app, owner.userId, receiver.url)
  await built.app.inject({ method: 'POST', url: `/notify/webhooks/${endpoint.id}/test`, headers: userHeader('user', owner.userId) })
  t.ok(await eventually(async () => (await built.app.inject({ url: `/notify/webhooks/${endpoint.id}`, headers: userHeader('user', owner.userId) })).json().enabled === false), 'disabled')
  const now = (await built.app.inject({ url: `/notify/webhooks/${endpoint.id}`, headers: userHeader('user', owner.userId) })).json()
  t.equal(now.disabledReason, 'every delivery failed for a day')
  t.ok(await eventually(() => smtp.mails.length === 1), 'the owner is told')
  t.equal(smtp.mails[0]!.to[0], 'owner@example.com')
  t.equal(smtp.mails[0]!.subject, 'A webhook endpoint of yours was disabled')
  t.match(smtp.mails[0]!.text, receiver.url)
  const attempts = receiver.received.length
  t.ok(await quiet(built), 'notify has nothing left to do')
  t.equal(receiver.received.length, attempts, 'no more attempts')
  t.equal(smtp.mails.length, 1, 'one mail')
  const log = (await built.app.inject({ url: `/notify/webhooks/${endpoint.id}/deliveries`, headers: userHeader('user', owner.userId) })).json()
  t.equal(log.items[0].status, 'failed')
  t.ok(log.items[0].attempts.length >= 2, 'it was tried several times')
  t.ok(log.items[0].attempts.every((a: { latencyMs: number }) => a.latencyMs >= 0))

  const enabled = await built.app.inject({ method: 'PATCH', url: `/notify/webhooks/${endpoint.id}`, headers: userHeader('user', owner.userId), payload: { enabled: true } })
  t.match(enabled.json(), { enabled: true, disabledReason: null, failingSince: null }, 'its owner can enable it again')
})

t.test('SSRF: in production mode loopback, private, link-local and metadata targets are refused, by address, by name and on redirect', async (t) => {
  const { app, db } = await build(t)
  const owner = randomUUID()
  for (const url of [
    'https://127.0.0.1/hook', 'https://169.254.169.254/latest/meta-data/', 'https://10.0.0.1/hook', 'https://192.168.1.10/', 'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook', 'https://[fd00:ec2::254]/', 'https://0.0.0.0/', 'https://100.100.100.200/', 'https://localhost/hook', 'http://example.com/hook'
  ]) {
    const res = await app.inject({ method: 'POST', url: '/notify/webhooks', headers: userHeader('user', owner), payload: { url } })
    t.equal(res.statusCode, 400, `${url} is refused`)
    t.equal(res.json().code, 'NOTIFY_URL_REFUSED')
  }
  t.match((await app.inject({ method: 'POST', url: '/notify/webhooks', headers: userHeader('user', owner), payload: { url: 'https://localhost/hook' } })).json().message, 'body/url: localhost is 127.0.0.1', 'a name is judged by what it resolves to')
  t.match((await app.inject({ method: 'POST', url: '/notify/webhooks', headers: userHeader('user', owner), payload: { url: 'http://example.com/' } })).json().message, 'https', 'https only')
  t.equal((await db.selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n, 0, 'nothing stored')

  // A name that resolved to a public address when the endpoint was added and to a private one when
  // delivering (DNS rebinding) is refused at delivery.
  let answer = '93.184.216.34'
  const rebinding = await build(t, { resolve: async () => [{ address: answer, family: 4 }] })
  const added = await rebinding.app.inject({ method: 'POST', url: '/notify/webhooks', headers: userHeader('user', owner), payload: { url: 'https://hooks.example.com/in' } })
  t.equal(added.statusCode, 201, 'a public address is accepted')
  answer = '10.0.0.7'
  await rebinding.app.inject({ method: 'POST', url: `/notify/webhooks/${(added.json() as { endpoint: { id: string } }).endpoint.id}/test`, headers: userHeader('user', owner) })
  t.ok(await eventually(async () => (await rebinding.db.selectFrom('delivery_attempts').select('error').executeTakeFirst())?.error?.includes('10.0.0.7') === true), 'refused at delivery once it resolves to a private address')

  // Redirects are never followed blindly: each hop is checked. The first hop here is an internal
  // receiver allowed by range (NOTIFY_WEBHOOKS_ALLOWED_CIDRS); its redirects to other private targets are refused.
  const policy = { allowPrivate: false, allowHttp: true, allowedCidrs: ['127.0.0.1/32'] }
  for (const target of ['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/', 'http://localhost6/', 'https://[::1]/']) {
    const receiver = await startReceiver(t, () => ({ redirect: target }))
    const result = await sendWebhook(receiver.url, '{}', {}, { policy, timeoutMs: 2000 })
    t.equal(result.ok, false, `a redirect to ${target} is refused`)
    t.match(result.error, /^redirect to .* refused: /)
    t.equal(receiver.received.length, 1)
  }
  const allowed = await startReceiver(t)
  const hop = await startReceiver(t, () => ({ redirect: allowed.url }))
  t.match(await sendWebhook(hop.url, '{}', {}, { policy, timeoutMs: 2000 }), { ok: true, statusCode: 200 }, 'a redirect to an allowed target is followed, once checked')
  t.equal(allowed.received.length, 1)
  const loop = await startReceiver(t, () => ({ redirect: '/hooks' }))
  t.match(await sendWebhook(loop.url, '{}', {}, { policy, timeoutMs: 2000 }), { ok: false, error: 'more than 3 redirects' })

  t.equal(isPublicAddress('8.8.8.8'), true)
  t.equal(isPublicAddress('2606:4700:4700::1111'), true)
  t.equal(isPublicAddress('fe80::1'), false)
  t.equal(isPublicAddress('not an address'), false)
  await t.rejects(checkTarget('https://does-not-resolve.invalid/', { allowPrivate: false }), /does not resolve/)
  await t.rejects(checkTarget('https://user:pw@example.com/', { allowPrivate: false }), /credentials/)
})

t.test('NOTIFY_WEBHOOKS_ALLOW_PRIVATE is refused in production', async (t) => {
  const { loadNotifyConfig } = await import('../src/config.js')
  t.throws(() => loadNotifyConfig({ NODE_ENV: 'production', NOTIFY_WEBHOOKS_ALLOW_PRIVATE: 'true', IDENTITY_SECRET: 'x'.repeat(40), NOTIFY_LINK_SECRET: 'y'.repeat(40) }), /NOTIFY_WEBHOOKS_ALLOW_PRIVATE must not be set in production/)
  t.throws(() => loadNotifyConfig({ NOTIFY_WEBHOOKS_ALLOWED_CIDRS: '10.0.0.0/8, nonsense' }), /NOTIFY_WEBHOOKS_ALLOWED_CIDRS: "nonsense" is not a CIDR range/)
  t.throws(() => loadNotifyConfig({ NODE_ENV: 'production', IDENTITY_SECRET: 'x'.repeat(40) }), /NOTIFY_LINK_SECRET still has its development value/)
})

t.test('finished deliveries are kept 30 days, then deleted with their attempts; waiting ones are kept', async (t) => {
  const first = await build(t, { env: LOCAL })
  const row = (status: 'sent' | 'failed' | 'pending', daysAgo: number) => ({
    event_key: `old:${randomUUID()}`, kind: 'webhook.test', user_id: 'u', channel: 'email' as const, target: 'email', recipient: 'a@example.com', status,
    payload: JSON.stringify({ title: 't', body: 'b', data: {}, at: new Date().toISOString() }), created_at: new Date(Date.now() - daysAgo * 86_400_000)
  })
  // In one transaction: the first replica's own clean-up may run at any moment.
  const inserted = await first.db.transaction().execute(async (trx) => {
    const rows = await trx.insertInto('deliveries').values([row('sent', 31), row('failed', 31), row('pending', 31), row('sent', 29)]).returning(['id', 'status']).execute()
    await trx.insertInto('delivery_attempts').values({ delivery_id: rows[0]!.id, attempt: 1, status_code: 200, latency_ms: 5, error: null }).execute()
    return rows
  })
  // A replica starting now cleans up in its first round.
  await build(t, { env: LOCAL, sameAs: first })
  t.ok(await eventually(async () => (await first.db.selectFrom('deliveries').select('id').where('event_key', 'like', 'old:%').execute()).length === 2))
  const left = await first.db.selectFrom('deliveries').select(['status', 'created_at']).where('event_key', 'like', 'old:%').orderBy('status').execute()
  t.same(left.map((r) => r.status), ['pending', 'sent'], 'the waiting one and the recent one stay')
  t.equal((await first.db.selectFrom('delivery_attempts').selectAll().where('delivery_id', '=', inserted[0]!.id).execute()).length, 0, 'the attempts went with it')
})

t.test('metrics: deliveries waiting per channel, the oldest one\'s age, those given up, endpoints disabled for failing', async (t) => {
  const built = await build(t, { env: { ...LOCAL, METRICS_PORT: '0', NOTIFY_WEBHOOK_DISABLE_AFTER_MS: '300' } })
  const receiver = await startReceiver(t, () => 500)
  const owner = randomUUID()
  const { endpoint } = await addEndpoint(built.app, owner, receiver.url)
  await built.db.insertInto('deliveries').values({
    event_key: 'waiting', kind: 'milestone', user_id: owner, channel: 'email', target: 'email', recipient: 'a@example.com',
    payload: JSON.stringify({ title: 't', body: 'b', data: {}, at: new Date().toISOString() }), created_at: new Date(Date.now() - 60_000), next_attempt_at: new Date(Date.now() + 3_600_000)
  }).execute()
  await built.app.inject({ method: 'POST', url: `/notify/webhooks/${endpoint.id}/test`, headers: userHeader('user', owner) })
  t.ok(await eventually(async () => (await built.app.inject({ url: `/notify/webhooks/${endpoint.id}`, headers: userHeader('user', owner) })).json().enabled === false))
  const text = await built.inner.metrics!.registry.metrics()
  t.match(text, /notify_deliveries_waiting\{channel="email",service="notify"\} 2\b/, 'the one inserted and the owner\'s "disabled" mail (nobody answers for auth here)')
  t.match(text, /notify_deliveries_waiting\{channel="webhook",service="notify"\} 0\b/)
  t.match(text, /notify_deliveries_failed\{service="notify"\} 1\b/, 'the test delivery was given up when its endpoint was disabled')
  t.match(text, /notify_webhook_endpoints_failing_disabled\{service="notify"\} 1\b/)
  const age = Number(/notify_deliveries_oldest_waiting_age_seconds\{service="notify"\} (\S+)/.exec(text)?.[1])
  t.ok(age >= 59 && age < 600, `the oldest waits for about a minute (${age} s)`)
})
