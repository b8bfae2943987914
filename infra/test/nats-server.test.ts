import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { STREAMS } from '../src/generated.js'
import { inboxOf, passwordVariable, readPermissions, renderNatsConf } from '../src/nats.js'
import { ROOT } from './helper.js'

// The NATS client the services use (through @pulse/service-kit), typed loosely here.
const requireFromKit = createRequire(path.join(ROOT, 'packages', 'service-kit', 'package.json'))
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const nats: any = requireFromKit('@nats-io/transport-node')
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const jetstreamLib: any = requireFromKit('@nats-io/jetstream')
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const jetstream = (nc: unknown): any => jetstreamLib.jetstream(nc)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const jetstreamManager = async (nc: unknown): Promise<any> => await jetstreamLib.jetstreamManager(nc)

const permissions = readPermissions()
const freePort = () => new Promise<number>((resolve) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => { const { port } = srv.address() as net.AddressInfo; srv.close(() => resolve(port)) })
})

// A real nats-server with the generated configuration: the permissions as the server enforces them.
// (sync_interval is left out: the machines' Debian server predates it; it changes no permission.)
const dir = mkdtempSync(path.join(tmpdir(), 'pulse-nats-'))
const port = await freePort()
const conf = renderNatsConf(permissions, STREAMS, { port, monitorPort: await freePort(), storeDir: path.join(dir, 'js'), syncAlways: false })
writeFileSync(path.join(dir, 'nats.conf'), conf)
const passwords = Object.fromEntries(Object.keys(permissions.users).map((u) => [passwordVariable(u), `pw-${u}`]))
const server: ChildProcess = spawn('nats-server', ['-c', path.join(dir, 'nats.conf'), '-a', '127.0.0.1'], { env: { ...process.env, ...passwords }, stdio: 'ignore' })
t.teardown(() => { server.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }) })

const connect = async (user?: string) => {
  for (let i = 0; ; i++) {
    try {
      // As @pulse/service-kit connects: the service's name is its user and names its inbox.
      return await nats.connect({ servers: `nats://127.0.0.1:${port}`, ...(user === undefined ? {} : { user, pass: `pw-${user}`, inboxPrefix: inboxOf(user) }), maxReconnectAttempts: 0 })
    } catch (error) {
      if (i > 50 || /Authorization/.test(String(error))) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}
const data = (o: object) => Buffer.from(JSON.stringify(o))
const stream = (name: string) => ({ name, subjects: STREAMS.find((s) => s.name === name)!.subjects, storage: jetstreamLib.StorageType.File })

t.test('the server accepts the generated configuration and every service user with its password', async (t) => {
  for (const user of Object.keys(permissions.users)) {
    const nc = await connect(user)
    t.pass(`${user} connects`)
    await nc.close()
  }
  await t.rejects(nats.connect({ servers: `nats://127.0.0.1:${port}`, user: 'contact', pass: 'wrong', maxReconnectAttempts: 0 }), 'a wrong password is refused')
})

t.test('contact publishes its own event and nothing else, and cannot delete its stream', async (t) => {
  const nc = await connect('contact')
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add(stream('CONTACT'))
  const js = jetstream(nc)
  const ack = await js.publish('contact.submitted.v1', data({ id: '1' }))
  t.equal(ack.stream, 'CONTACT', 'contact.submitted.v1 is stored')
  await t.rejects(js.publish('auth.connection.linked.v1', data({}), { timeout: 500 }), 'auth.connection.linked.v1 is refused')
  await t.rejects(jsm.streams.delete('CONTACT'), 'deleting the stream is refused')
  await nc.close()
})

t.test('an ingest service declares the dead-letter stream and moves its own consumers\' events there; contact may not', async (t) => {
  const nc = await connect('twitch-ingest')
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({ name: 'DEAD_LETTERS', subjects: ['dead-letter.>'], storage: jetstreamLib.StorageType.File })
  const ack = await jetstream(nc).publish('dead-letter.METRICS.twitch-ingest-refresh', data({ userId: 'u' }))
  t.equal(ack.stream, 'DEAD_LETTERS', 'a dead letter of a stream it consumes is stored')
  await t.rejects(jetstream(nc).publish('dead-letter.CONTACT.someone', data({}), { timeout: 500 }), 'not one of a stream it does not consume')
  await nc.close()
  const contact = await connect('contact')
  await t.rejects(jetstream(contact).publish('dead-letter.CONTACT.x', data({}), { timeout: 500 }), 'contact consumes nothing: no dead letters')
  await contact.close()
})

t.test('auth publishes connections and answers token requests; twitch-ingest consumes them and asks', async (t) => {
  const auth = await connect('auth')
  const ajsm = await jetstreamManager(auth)
  await ajsm.streams.add(stream('AUTH'))
  await jetstream(auth).publish('auth.connection.linked.v1', data({ userId: 'u1' }))
  // Answers on both providers' subjects, so a refused request is the permissions' doing.
  const responders = ['twitch', 'twitter'].map((p) => auth.subscribe(`rpc.auth.provider-token.v1.${p}`, { callback: (_err: unknown, msg: { respond: (d: Buffer) => void }) => msg.respond(data({ ok: true })) }))
  await auth.flush()

  const ingest = await connect('twitch-ingest')
  const ijsm = await jetstreamManager(ingest)
  await ijsm.streams.add(stream('METRICS'))
  await ijsm.consumers.add('AUTH', { durable_name: 'twitch-ingest', ack_policy: jetstreamLib.AckPolicy.Explicit, filter_subject: 'auth.connection.>' })
  const consumer = await jetstream(ingest).consumers.get('AUTH', 'twitch-ingest')
  const msg = await consumer.next({ expires: 2000 })
  t.equal(msg?.subject, 'auth.connection.linked.v1', 'the durable consumer receives the event')
  t.ok(await msg.ackAck(), 'and acknowledges it')
  const reply = await ingest.request('rpc.auth.provider-token.v1.twitch', data({ userId: 'u1', provider: 'twitch' }), { timeout: 2000 })
  t.same(JSON.parse(Buffer.from(reply.data).toString()), { ok: true }, 'the token request is answered')
  await t.rejects(ingest.request('rpc.auth.provider-token.v1.twitter', data({ userId: 'u1', provider: 'twitter' }), { timeout: 1000 }), 'a request for an X token is refused')
  const ack = await jetstream(ingest).publish('metrics.refreshed.v1.twitch', data({ userId: 'u1' }))
  t.equal(ack.stream, 'METRICS', 'twitch-ingest publishes its metrics')
  await t.rejects(jetstream(ingest).publish('metrics.refreshed.v1.twitter', data({}), { timeout: 500 }), "twitter's subjects are refused")
  for (const responder of responders) responder.unsubscribe()
  await ingest.close()
  await auth.close()
})

t.test('the gateway follows the metrics it shows and nothing else', async (t) => {
  const gw = await connect('gateway')
  const consumer = await jetstream(gw).consumers.get('METRICS', { filter_subjects: 'metrics.>' })
  const msg = await consumer.next({ expires: 2000 })
  t.equal(msg?.subject, 'metrics.refreshed.v1.twitch', 'an ordered consumer on METRICS receives the refreshed event')
  const jsm = await jetstreamManager(gw)
  // As the gateway turns its replay window's start time into a stream sequence: a short-lived consumer.
  const probe = await jsm.consumers.add('METRICS', { filter_subject: 'metrics.>', deliver_policy: jetstreamLib.DeliverPolicy.StartTime, opt_start_time: new Date(0).toISOString(), ack_policy: jetstreamLib.AckPolicy.None, mem_storage: true, num_replicas: 1 })
  t.equal(probe.delivered.stream_seq, 0, 'a short-lived consumer from a start time tells the sequence before it')
  t.ok(await jsm.consumers.delete('METRICS', probe.name), 'and is deleted')
  // On AUTH it follows the export-ready event only (an ordered consumer), and publishes nothing there.
  await t.rejects(jetstream(gw).publish('auth.export.ready.v1', data({}), { timeout: 500 }), 'no auth events published')
  const exports = await jetstream(gw).consumers.get('AUTH', { filter_subjects: 'auth.export.ready.v1' })
  t.ok(exports, 'an ordered consumer of auth.export.ready.v1 on AUTH')
  await t.rejects(jetstream(gw).publish('metrics.refresh.requested.v1.twitch', data({}), { timeout: 500 }), 'no refresh requests')
  await gw.close()
})

/** Resolves with the server's refusal of a subscription, or undefined if none came within a moment. */
const subscriptionRefusal = async (nc: { subscribe: (s: string, o: object) => unknown, flush: () => Promise<void> }, subject: string) => {
  const refused = new Promise<Error>((resolve) => { nc.subscribe(subject, { callback: (err: Error | null) => { if (err !== null) resolve(err) } }) })
  await nc.flush()
  return Promise.race([refused, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 500))])
}

t.test('replies come to the service\'s own inbox, which no other service can read', async (t) => {
  const auth = await connect('auth')
  const responders = ['twitch', 'twitter'].map((p) => auth.subscribe(`rpc.auth.provider-token.v1.${p}`, { callback: (_err: unknown, msg: { respond: (d: Buffer) => void }) => msg.respond(data({ token: 'secret' })) }))
  await auth.flush()
  const ingest = await connect('twitter-ingest')
  const reply = await ingest.request('rpc.auth.provider-token.v1.twitter', data({ userId: 'u1', provider: 'twitter' }), { timeout: 2000 })
  await t.rejects(ingest.request('rpc.auth.provider-token.v1.twitch', data({ userId: 'u1', provider: 'twitch' }), { timeout: 1000 }), 'twitter-ingest cannot ask for a Twitch token')
  t.same(JSON.parse(Buffer.from(reply.data).toString()), { token: 'secret' }, 'a request is answered on the private inbox')

  for (const [user, other] of [['twitch-ingest', 'twitter-ingest'], ['gateway', 'auth'], ['contact', 'twitch-ingest']] as const) {
    const snoop = await connect(user)
    t.match(String(await subscriptionRefusal(snoop, `${inboxOf(other)}.>`)), /Permissions Violation/i, `${user} cannot subscribe to ${other}'s inbox`)
    t.match(String(await subscriptionRefusal(snoop, '_INBOX.>')), /Permissions Violation/i, `${user} cannot subscribe to the shared default inbox`)
    t.equal(await subscriptionRefusal(snoop, `${inboxOf(user)}.>`), undefined, `${user} may subscribe to its own`)
    await snoop.close()
  }
  const defaultInbox = await nats.connect({ servers: `nats://127.0.0.1:${port}`, user: 'twitter-ingest', pass: 'pw-twitter-ingest', maxReconnectAttempts: 0 })
  await t.rejects(defaultInbox.request('rpc.auth.provider-token.v1.twitter', data({ userId: 'u1', provider: 'twitter' }), { timeout: 1000 }), 'a client on the default inbox gets no reply')
  await defaultInbox.close()
  for (const responder of responders) responder.unsubscribe()
  await ingest.close()
  await auth.close()
})

t.test('a connection without credentials is accepted exactly as permissions.json says', async (t) => {
  if (permissions.unauthenticated.allow) {
    const nc = await connect()
    const ack = await jetstream(nc).publish('contact.submitted.v1', data({ id: '2' }))
    t.equal(ack.stream, 'CONTACT', 'it may use the services\' subjects')
    await t.rejects(jetstream(nc).publish('unknown.subject', data({}), { timeout: 500 }), 'but no other')
    await nc.close()
  } else {
    await t.rejects(connect(), 'it is refused')
  }
})
