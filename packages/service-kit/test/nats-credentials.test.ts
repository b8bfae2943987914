import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { EventBus, NatsConfigProperties, inboxPrefixOf, loadConfig, natsServerLogin } from '../src/index.js'

// A real nats-server on a free port with two users of different permissions, as the generated
// configuration of infra/nats/nats.conf has them: each may subscribe to its own inbox only, and only
// the answerer may receive requests (and answer them). No connection without credentials.
const ASKER = { user: 'asker', pass: 'p/ss:w@rd+1 %' } // every character a URL would need encoded
const ANSWERER = { user: 'answerer', pass: 'answerer-secret' }
const SUBJECT = 'rpc.kit.answer.v1'

const freePort = () => new Promise<number>((resolve) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => { const { port } = srv.address() as net.AddressInfo; srv.close(() => resolve(port)) })
})
const answers = (port: number) => new Promise<boolean>((resolve) => {
  const socket = net.connect({ host: '127.0.0.1', port })
  socket.once('connect', () => { socket.destroy(); resolve(true) })
  socket.once('error', () => resolve(false))
})

const dir = mkdtempSync(path.join(tmpdir(), 'pulse-kit-nats-'))
const port = await freePort()
const user = (name: string, pass: string, permissions: string[]) => `    { user: ${JSON.stringify(name)}, password: ${JSON.stringify(pass)}, permissions: { ${permissions.join(', ')} } }`
writeFileSync(path.join(dir, 'nats.conf'), `port: ${port}
jetstream { store_dir: ${JSON.stringify(path.join(dir, 'js'))} }
authorization {
  users: [
${user(ASKER.user, ASKER.pass, [`publish: { allow: ["${SUBJECT}", "$JS.API.INFO"] }`, `subscribe: { allow: ["${inboxPrefixOf(ASKER.user)}.>"] }`])}
${user(ANSWERER.user, ANSWERER.pass, [`publish: { allow: ["$JS.API.INFO"] }`, `subscribe: { allow: ["${SUBJECT}", "${inboxPrefixOf(ANSWERER.user)}.>"] }`, 'allow_responses: true'])}
  ]
}
`)
const server: ChildProcess = spawn('nats-server', ['-c', path.join(dir, 'nats.conf'), '-a', '127.0.0.1'], { stdio: 'ignore' })
const started = new Promise<void>((resolve, reject) => {
  server.once('error', (error) => reject(new Error(`this test runs nats-server, which must be on PATH (apt-get install nats-server): ${error.message}`)))
  void (async () => {
    for (let i = 0; i < 100; i++) {
      if (await answers(port)) return resolve()
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    reject(new Error('nats-server did not start'))
  })()
})
t.teardown(() => { server.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }) })
await started

const base = `nats://127.0.0.1:${port}`
const withCredentials = (name: string, pass: string) => `nats://${encodeURIComponent(name)}:${encodeURIComponent(pass)}@127.0.0.1:${port}`
const buses: EventBus[] = []
t.teardown(async () => { for (const bus of buses) await bus.close() })
const connectBus = async (options: Parameters<typeof EventBus.connect>[0]) => {
  const bus = await EventBus.connect(options)
  buses.push(bus)
  return bus
}

t.test('credentials in the URL become the login, and the address goes to the client without them', async (t) => {
  t.same(natsServerLogin('nats://twitch-ingest:a%2Fb%3Ac%40d@nats:4222'), { servers: ['nats://nats:4222'], user: 'twitch-ingest', pass: 'a/b:c@d' })
  t.same(natsServerLogin('nats://s3cr3t-token@nats:4222'), { servers: ['nats://nats:4222'], token: 's3cr3t-token' }, 'a user without a password is a token')
  t.same(natsServerLogin('nats://127.0.0.1:4222'), { servers: ['nats://127.0.0.1:4222'] }, 'no credentials: the URL as it is')
  t.same(natsServerLogin('nats://a:b@nats:4222', { user: 'c', pass: 'd' }), { servers: ['nats://nats:4222'], user: 'c', pass: 'd' }, 'explicit options win')
  t.same(natsServerLogin('nats://u:p@nats-0:4222, nats://u:p@nats-1:4222,nats://u:p@nats-2:4222'),
    { servers: ['nats://nats-0:4222', 'nats://nats-1:4222', 'nats://nats-2:4222'], user: 'u', pass: 'p' }, 'a list: every server, one login')
  t.throws(() => natsServerLogin('nats://u:p@nats-0:4222,nats://v:q@nats-1:4222'), /different credentials/, 'servers with different logins are refused')
  t.throws(() => inboxPrefixOf('a.b'), /letters, digits/, 'a connection name that cannot be one subject token is refused')

  const bus = await connectBus({ url: withCredentials(ASKER.user, ASKER.pass), name: ASKER.user })
  // JetStream's account info is a request: its reply comes to the inbox, and the asker may read only its own.
  t.ok(await bus.jsm.getAccountInfo(), 'the asker is logged in, and replies reach it on its own inbox')
  t.equal(bus.nc.getServer(), `127.0.0.1:${port}`, 'the connection shows the address only')
})

t.test('NATS_USER and NATS_PASSWORD reach the server through a service\'s NATS_URL alone', async (t) => {
  const config = loadConfig(NatsConfigProperties, { NATS_URL: base, NATS_USER: ANSWERER.user, NATS_PASSWORD: ANSWERER.pass })
  const bus = await connectBus({ url: config.NATS_URL, name: ANSWERER.user })
  await bus.ping()
  t.pass('the answerer connects with { url: config.NATS_URL } as the services pass it')
  const explicit = await connectBus({ url: base, name: ANSWERER.user, user: ANSWERER.user, pass: ANSWERER.pass })
  await explicit.ping()
  t.pass('and with user/pass as options')
})

t.test('a request is answered on the asker\'s private inbox, which the other user cannot read', async (t) => {
  const asker = await connectBus({ url: withCredentials(ASKER.user, ASKER.pass), name: ASKER.user })
  const answerer = await connectBus({ url: withCredentials(ANSWERER.user, ANSWERER.pass), name: ANSWERER.user })
  const replySubjects: string[] = []
  answerer.nc.subscribe(SUBJECT, {
    callback: (_err, msg) => {
      replySubjects.push(msg.reply ?? '')
      msg.respond(Buffer.from(JSON.stringify({ token: 'provider-token' })))
    }
  })
  // The answerer also tries to read what comes to the asker's inbox.
  const snooped: string[] = []
  const refused = new Promise<Error>((resolve) => {
    answerer.nc.subscribe(`${inboxPrefixOf(ASKER.user)}.>`, { callback: (err, msg) => { if (err !== null) resolve(err); else snooped.push(msg.subject) } })
  })
  await answerer.nc.flush()

  const reply = await asker.nc.request(SUBJECT, Buffer.from('{}'), { timeout: 2000 })
  t.same(JSON.parse(Buffer.from(reply.data).toString('utf8')), { token: 'provider-token' }, 'the request-reply works')
  t.match(replySubjects[0], new RegExp(`^${inboxPrefixOf(ASKER.user)}\\.`), 'the reply went to _INBOX_asker.…')
  t.match(String(await refused), /Permissions Violation for Subscription/i, 'the server refuses the answerer a subscription to the asker\'s inbox')
  t.same(snooped, [], 'and it received nothing of it')
  t.notOk(answerer.nc.isClosed(), 'the refusal does not cost the answerer its connection')
  await answerer.ping()
})

t.test('the server refuses a connection without credentials or with a wrong password, and start-up fails instead of waiting forever', async (t) => {
  await t.rejects(EventBus.connect({ url: base, name: 'nobody' }), /Authorization/i, 'no credentials')
  await t.rejects(EventBus.connect({ url: withCredentials(ASKER.user, 'wrong'), name: ASKER.user }), /Authorization/i, 'a wrong password')
})
