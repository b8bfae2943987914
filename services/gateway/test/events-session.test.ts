import { sessionKey, sessionRevokedChannel, userSessionsKey } from '@pulse/service-kit'
import { eventually } from '@pulse/testing'
import http from 'node:http'
import net from 'node:net'
import t from 'tap'
import { SseStream } from '../src/sse.js'
import { Browser, openEventStream as openStream, startStack, type Stack } from './helper.js'

/** A logged-in browser, its cookie header, and its session id. */
async function login (stack: Stack, username: string) {
  const browser = new Browser(stack.gatewayUrl)
  const reg = await browser.fetch('/auth/register', { method: 'POST', body: { username, password: 'a fine password' } })
  const cookie = `pulse_session=${browser.cookie('pulse_session')}`
  const userId = reg.json.user.id as string
  const [sessionId] = await stack.redis.smembers(userSessionsKey(userId))
  return { browser, cookie, sessionId: sessionId!, userId }
}

const CLOSED = /event: stream\.closed\ndata: \{"reason":"session_ended"\}/

// The periodic check is off (10 minutes) where a test proves that an announcement ends the stream.
const NO_PERIODIC_CHECK = { EVENTS_SESSION_CHECK_MS: '600000' }

t.test('a logout ends the session\'s live streams at once', async (t) => {
  const stack = await startStack(t, { gatewayEnv: NO_PERIODIC_CHECK })
  const alice = await login(stack, 'alice')
  const stream = await openStream(`${stack.gatewayUrl}/events`, { cookie: alice.cookie })
  t.teardown(() => stream.close())
  t.ok(await eventually(() => /: connected/.test(stream.text()), 10_000))
  t.equal((await alice.browser.fetch('/auth/logout', { method: 'POST' })).status, 204)
  t.ok(await eventually(() => stream.ended(), 15_000), 'the stream is closed')
  t.match(stream.text(), CLOSED, 'with a last event saying why')
  t.equal((await fetch(`${stack.gatewayUrl}/events`, { headers: { cookie: alice.cookie } })).status, 401, 'and the reconnect is refused')
})

t.test('a session revoked elsewhere (announced on Redis) ends its streams; other sessions keep theirs', async (t) => {
  const stack = await startStack(t, { gatewayEnv: NO_PERIODIC_CHECK })
  const alice = await login(stack, 'alice')
  const bob = await login(stack, 'bob')
  const aliceStream = await openStream(`${stack.gatewayUrl}/events`, { cookie: alice.cookie })
  const bobStream = await openStream(`${stack.gatewayUrl}/events`, { cookie: bob.cookie })
  t.teardown(async () => { await aliceStream.close(); await bobStream.close() })
  t.ok(await eventually(() => /: connected/.test(aliceStream.text()) && /: connected/.test(bobStream.text()), 10_000))
  // What auth does when it removes a session (password change, an admin's revocation).
  await stack.redis.del(sessionKey(alice.sessionId))
  await stack.redis.publish(sessionRevokedChannel(stack.redisPrefix), alice.sessionId)
  t.ok(await eventually(() => aliceStream.ended(), 15_000), 'the revoked session\'s stream is closed')
  t.match(aliceStream.text(), CLOSED)
  // A change announced for a session that still exists (a time-zone change) keeps it open.
  await stack.redis.publish(sessionRevokedChannel(stack.redisPrefix), bob.sessionId)
  t.equal((await bob.browser.fetch('/auth/me')).status, 200)
  t.notOk(bobStream.ended(), 'bob\'s stream stays open')
  t.notMatch(bobStream.text(), /stream\.closed/)
})

t.test('an idle expiry ends the stream within EVENTS_SESSION_CHECK_MS', async (t) => {
  const stack = await startStack(t, { gatewayEnv: { EVENTS_SESSION_CHECK_MS: '200' } })
  const alice = await login(stack, 'alice')
  const stream = await openStream(`${stack.gatewayUrl}/events`, { cookie: alice.cookie })
  t.teardown(() => stream.close())
  t.ok(await eventually(() => /: connected/.test(stream.text()), 10_000))
  // Redis expires the key itself, as when SESSION_IDLE_TIMEOUT_S passes without use: nobody announces it.
  await stack.redis.pexpire(sessionKey(alice.sessionId), 300)
  t.ok(await eventually(() => stream.ended(), 15_000), 'the stream is closed')
  t.match(stream.text(), CLOSED)
})

t.test('the absolute lifetime ends the stream on time', async (t) => {
  const stack = await startStack(t, { gatewayEnv: { ...NO_PERIODIC_CHECK, SESSION_ABSOLUTE_TIMEOUT_S: '60', SESSION_CACHE_MS: '0' } })
  const alice = await login(stack, 'alice')
  const record = JSON.parse((await stack.redis.get(sessionKey(alice.sessionId)))!) as { createdAt: number }
  // Logged in 58 seconds ago: two seconds of the 60 left.
  await stack.redis.set(sessionKey(alice.sessionId), JSON.stringify({ ...record, createdAt: Date.now() - 58_000 }), 'KEEPTTL')
  const stream = await openStream(`${stack.gatewayUrl}/events`, { cookie: alice.cookie })
  t.teardown(() => stream.close())
  t.equal(stream.res.status, 200)
  t.ok(await eventually(() => stream.ended(), 20_000), 'the stream is closed when the session ends')
  t.match(stream.text(), CLOSED)
})

t.test('EVENTS_MAX_STREAMS_PER_USER: a new stream closes the user\'s oldest', async (t) => {
  const stack = await startStack(t, { gatewayEnv: { EVENTS_MAX_STREAMS_PER_USER: '2' } })
  const alice = await login(stack, 'alice')
  const bob = await login(stack, 'bob')
  const streams: Awaited<ReturnType<typeof openStream>>[] = []
  for (let i = 0; i < 2; i++) {
    const s = await openStream(`${stack.gatewayUrl}/events`, { cookie: alice.cookie })
    t.ok(await eventually(() => /: connected/.test(s.text()), 10_000))
    streams.push(s)
  }
  const bobs = await openStream(`${stack.gatewayUrl}/events`, { cookie: bob.cookie })
  const third = await openStream(`${stack.gatewayUrl}/events`, { cookie: alice.cookie })
  streams.push(third)
  t.teardown(async () => { for (const s of [...streams, bobs]) await s.close() })
  t.ok(await eventually(() => /: connected/.test(third.text()), 10_000), 'the new stream opens')
  t.ok(await eventually(() => streams[0]!.ended(), 15_000), 'the oldest is closed')
  t.match(streams[0]!.text(), /event: stream\.closed\ndata: \{"reason":"too_many_streams"\}/)
  t.notOk(streams[1]!.ended(), 'the second stays open')
  t.notOk(third.ended())
  t.notOk(bobs.ended(), 'other users are not counted')
})

t.test('a reader that does not read is dropped once EVENTS_MAX_BUFFER_BYTES wait for it; nothing grows without bound', async (t) => {
  const maxBuffer = 64 * 1024
  const chunk = `data: ${'x'.repeat(8 * 1024)}\n\n`
  let stream: SseStream | undefined
  let peak = 0
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    stream = new SseStream(res, maxBuffer)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const { port } = server.address() as net.AddressInfo
  // A real TCP client that sends its request and then never reads: the kernel's buffers fill, then Node's.
  const client = net.connect(port, '127.0.0.1')
  client.on('error', () => {})
  t.teardown(() => client.destroy())
  client.write('GET /events HTTP/1.1\r\nhost: x\r\n\r\n')
  client.pause()
  t.ok(await eventually(() => stream !== undefined, 10_000))
  const res = (stream as unknown as { res: http.ServerResponse }).res
  let sent = 0
  // Far more than the kernel buffers of a loopback socket hold: without the bound it would all wait in memory.
  const ceiling = 256 * 1024 * 1024
  while (stream!.send(chunk)) {
    sent += chunk.length
    peak = Math.max(peak, res.writableLength)
    if (sent > ceiling) break
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.ok(stream!.isClosed, 'the stream is closed')
  t.ok(sent < ceiling, `it was closed after ${sent} bytes, not left to buffer everything`)
  t.ok(peak <= maxBuffer, `at most ${maxBuffer} bytes waited in the process (peak ${peak})`)
})
