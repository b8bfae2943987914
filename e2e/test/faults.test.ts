import { CONTACT_STREAM, ContactSubmittedV1 } from '@pulse/contracts'
import { EventBus } from '@pulse/service-kit'
import { TcpProxy, createTestDatabase } from '@pulse/testing'
import t from 'tap'
import { Browser, approveProvider, eventually, listen, startE2E, urlOf } from './helper.js'
import { OwnServer } from './servers.js'

t.test('Redis killed and restarted during traffic: 503 fast, nobody let in, recovery without restarts', async (t) => {
  const redis = await OwnServer.redis(t)
  // Failing fast means answering well before a request would time out: a request that waited for
  // Redis to come back would take this long.
  const requestTimeoutMs = 8_000
  const e2e = await startE2E(t, { REDIS_URL: redis.url, SESSION_CACHE_MS: '0', REQUEST_TIMEOUT_MS: String(requestTimeoutMs) }, ['auth', 'mood', 'gateway'])
  const user = new Browser(e2e.gateway)
  t.equal((await user.fetch('/auth/register', { method: 'POST', body: { username: 'steady', password: 'a good long password' } })).status, 201)
  t.equal((await user.fetch('/mood')).status, 200)
  // A second session, never resolved during the outage (no cached copy could let it in).
  const other = new Browser(e2e.gateway)
  t.equal((await other.fetch('/auth/register', { method: 'POST', body: { username: 'other', password: 'a good long password' } })).status, 201)

  redis.kill()
  const started = performance.now()
  const during = await user.fetch('/mood')
  const elapsed = performance.now() - started
  t.equal(during.status, 503, 'a request needing a session gets 503')
  t.equal(during.json.code, 'GATEWAY_SESSION_UNAVAILABLE')
  t.ok(elapsed < requestTimeoutMs, `it fails fast: ${Math.round(elapsed)} ms, under REQUEST_TIMEOUT_MS (${requestTimeoutMs} ms)`)
  const refused = await other.fetch('/mood')
  t.equal(refused.status, 503, 'a session that cannot be checked never gets in: exactly 503 (not a pass, nor a 401 that would end it)')
  t.equal(refused.json.code, 'GATEWAY_SESSION_UNAVAILABLE')
  t.equal((await user.fetch('/auth/login', { method: 'POST', body: { username: 'steady', password: 'a good long password' } })).status, 503, 'logins wait for Redis too')
  t.equal((await new Browser(e2e.gateway).fetch('/health')).status, 200, 'the gateway itself lives on')

  await redis.start()
  // Redis came back empty (no persistence here): the user logs in again, no service restarted.
  const relogin = await eventually(() => user.fetch('/auth/login', { method: 'POST', body: { username: 'steady', password: 'a good long password' } }), (a) => a.status === 200)
  t.equal(relogin.status, 200, 'login works again')
  t.equal((await user.fetch('/mood')).status, 200, 'and so does the session')
})

t.test('Postgres unreachable: not ready, writes answer 503, nothing acknowledged is lost, recovery without restarts', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const proxy = await TcpProxy.start(databaseUrl)
  t.teardown(() => proxy.stop())
  const e2e = await startE2E(t, { DATABASE_URL: proxy.url(databaseUrl), DATABASE_CONNECT_TIMEOUT_MS: '500' }, ['auth', 'mood', 'contact', 'gateway'])
  const user = new Browser(e2e.gateway)
  await user.fetch('/auth/register', { method: 'POST', body: { username: 'durable', password: 'a good long password' } })
  const kept = await user.fetch('/mood', { method: 'POST', body: { score: 4, label: 'before' } })
  t.equal(kept.status, 201)
  const sent = await user.fetch('/contact', { method: 'POST', body: { name: 'D', email: 'd@example.com', message: 'before the outage' } })
  t.equal(sent.status, 202)

  await proxy.cut()
  const moodReady = await fetch(`${urlOf(e2e, 'mood')}/ready`)
  t.equal(moodReady.status, 503)
  t.match(await moodReady.json(), { checks: { postgres: 'failing' } })
  const write = await user.fetch('/mood', { method: 'POST', body: { score: 2, label: 'during' } })
  t.equal(write.status, 503, 'a mood write is refused, not lost')
  const contact = await user.fetch('/contact', { method: 'POST', body: { name: 'D', email: 'd@example.com', message: 'during the outage' }, headers: { 'idempotency-key': 'retry-me' } })
  t.equal(contact.status, 503, 'a contact message is not acknowledged')

  await proxy.restore()
  t.equal(await eventually(() => fetch(`${urlOf(e2e, 'mood')}/ready`).then((r) => r.status), (s) => s === 200, 20_000, 'mood ready again'), 200, 'mood is ready again')
  const retried = await user.fetch('/contact', { method: 'POST', body: { name: 'D', email: 'd@example.com', message: 'during the outage' }, headers: { 'idempotency-key': 'retry-me' } })
  t.equal(retried.status, 202, 'the retry is stored')
  const list = await user.fetch('/mood')
  t.same(list.json.items.map((e: { label: string }) => e.label), ['before'], 'what was acknowledged is there; what was refused is not')
  t.equal((await user.fetch('/mood', { method: 'POST', body: { score: 5, label: 'after' } })).status, 201, 'writes work again without a restart')

  // The acknowledged contact messages are read back, as an admin reads them: each once, whole.
  const made = await e2e.runCommand('services/auth', 'src/cli/make-admin.ts', ['durable'])
  t.equal(made.code, 0, made.output)
  t.equal((await user.fetch('/auth/login', { method: 'POST', body: { username: 'durable', password: 'a good long password' } })).status, 200)
  const inbox = await user.fetch('/contact?limit=100')
  t.equal(inbox.status, 200)
  const messages = (inbox.json.items as { id: string, message: string, email: string }[]).map((m) => ({ id: m.id, message: m.message, email: m.email }))
  t.same(messages.sort((a, b) => a.message.localeCompare(b.message)), [
    { id: sent.json.id, message: 'before the outage', email: 'd@example.com' },
    { id: retried.json.id, message: 'during the outage', email: 'd@example.com' }
  ], 'both acknowledged messages are stored, once each, and nothing else')
})

t.test('NATS killed (-9) and restarted: no acknowledged event lost, consumers resume, services reconnect', async (t) => {
  const nats = await OwnServer.nats(t)
  const e2e = await startE2E(t, { NATS_URL: nats.url, OUTBOX_POLL_INTERVAL_MS: '100' }, ['contact', 'gateway'])
  const bus = await EventBus.connect({ url: nats.url, name: 'faults-consumer', prefix: e2e.env.NATS_PREFIX, streams: [CONTACT_STREAM] })
  t.teardown(() => bus.close())
  const seen: string[] = []
  await bus.consume([ContactSubmittedV1], { durable: 'faults-notifier', stream: CONTACT_STREAM }, async (payload) => { seen.push((payload as { id: string }).id) })
  const visitor = new Browser(e2e.gateway)
  const send = async (n: number) => (await visitor.fetch('/contact', { method: 'POST', body: { name: 'N', email: 'n@example.com', message: `message ${n}` }, headers: { 'idempotency-key': `m-${n}` } })).json.id as string
  const before = [await send(1), await send(2)]
  t.same(await eventually(async () => [...seen].sort(), (s) => s.length >= 2), [...before].sort(), 'events flow before the crash')

  nats.kill()
  const during = [await send(3), await send(4)]
  t.equal(during.filter((id) => typeof id === 'string').length, 2, 'messages are still acknowledged (the outbox keeps their events)')
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await nats.start()

  const all = [...before, ...during].sort()
  const final = await eventually(async () => [...new Set(seen)].sort(), (s) => s.length >= 4, 30_000)
  t.same(final, all, 'every acknowledged event arrives after the restart')
  const after = await send(5)
  t.ok(await eventually(async () => seen.includes(after), (ok) => ok), 'the service reconnected by itself and keeps publishing')
  // Delivery is at least once (an ack lost in the crash means a redelivery, which consumers absorb
  // by being idempotent); what is stored is exactly once: the outbox's message ids de-duplicate.
  const info = await bus.jsm.streams.info(bus.streamName(CONTACT_STREAM))
  t.equal(info.state.messages, 5, 'the stream holds each event once')
})


const refreshedEvents = (text: string) => text.match(/event: metrics\.refreshed/g)?.length ?? 0

t.test('NATS killed (-9) and restarted: an ingest consumer and the gateway\'s /events resume', async (t) => {
  const nats = await OwnServer.nats(t)
  const e2e = await startE2E(t, { NATS_URL: nats.url, OUTBOX_POLL_INTERVAL_MS: '100', TWITCH_MANUAL_REFRESH_MIN_INTERVAL_S: '1' }, ['provider-sim', 'auth', 'twitch-ingest', 'gateway'])
  const creator = new Browser(e2e.gateway)
  t.equal((await creator.fetch('/auth/register', { method: 'POST', body: { username: 'resumer', password: 'a good long password' } })).status, 201)
  const events = await listen(creator)
  t.equal(events.status, 200)
  t.teardown(() => events.close())
  await approveProvider(creator, 'twitch', 'sim_mid', '/dashboard')
  t.equal(await eventually(async () => refreshedEvents(events.text()), (n) => n >= 1, 60_000), 1, 'the first refresh reaches the open stream')

  nats.kill()
  await nats.start()
  // The services notice on their own; nothing is restarted. The refresh is requested after the
  // restart (its event waits in the outbox until NATS answers).
  const requested = await eventually(() => creator.fetch('/twitch/refresh', { method: 'POST' }), (a) => a.status === 202, 30_000)
  t.equal(requested.status, 202, 'a refresh is requested after the restart')
  t.equal(await eventually(async () => refreshedEvents(events.text()), (n) => n >= 2, 60_000), 2,
    'the ingest consumer handled it and its event reached the stream opened before the crash')
  const overview = await creator.fetch('/twitch/overview')
  t.equal(overview.status, 200)
})

t.test('SIGTERM to a service under load: no failed request beyond those refused before accept', async (t) => {
  // Rate limits out of the way: once the service is gone the workers spin on fast 503s, and a 429
  // would hide what this test is about (how the service drains).
  const e2e = await startE2E(t, { RATE_LIMIT_PER_ADDRESS: '1000000', RATE_LIMIT_PER_USER: '1000000' }, ['auth', 'mood', 'gateway'])
  const user = new Browser(e2e.gateway)
  await user.fetch('/auth/register', { method: 'POST', body: { username: 'loaded', password: 'a good long password' } })
  const mood = e2e.stack.children.find((c) => c.name === 'mood')!
  const outcomes: string[] = []
  let running = true
  const worker = async () => {
    while (running) {
      try {
        const res = await user.fetch('/mood', { method: 'POST', body: { score: 3 } })
        outcomes.push(res.status === 201 ? 'ok' : `${res.status} ${res.json.code as string}`)
      } catch (err) {
        outcomes.push(`network ${(err as Error).message}`)
      }
    }
  }
  const workers = Array.from({ length: 8 }, worker)
  const ok = () => outcomes.filter((o) => o === 'ok').length
  t.ok(await eventually(async () => ok(), (n) => n > 20, 30_000, 'requests flowing before SIGTERM') > 20, 'requests are flowing before the signal')
  const exited = new Promise((resolve) => mood.child.once('exit', (code) => resolve(code)))
  mood.child.kill('SIGTERM')
  t.equal(await exited, 0, 'the service drains and exits 0')
  // Keep the load on after the exit until requests have met the missing upstream.
  const atExit = outcomes.length
  t.ok(await eventually(async () => outcomes.length - atExit, (n) => n >= 16, 30_000, 'requests after the exit') >= 16, 'requests kept coming after the exit')
  running = false
  await Promise.all(workers)
  const failures = outcomes.filter((o) => o !== 'ok')
  t.ok(outcomes.filter((o) => o === 'ok').length > 20, 'requests were flowing')
  t.same([...new Set(failures)], failures.length > 0 ? ['503 GATEWAY_UPSTREAM_UNAVAILABLE'] : [], 'the only failures are refusals before accept (upstream unavailable)')
})
