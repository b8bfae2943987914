import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { startStack } from './helper.js'

/** A stand-in twitch-ingest that records what reaches it, byte for byte. */
async function recorder (t: { teardown (fn: () => unknown): void }) {
  const seen: Array<{ method: string, url: string, headers: http.IncomingHttpHeaders, body: Buffer }> = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) })
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('the-challenge')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

t.test('POST /webhooks/twitch reaches twitch-ingest without a session, from another site, with the body untouched', async (t) => {
  const ingest = await recorder(t)
  const stack = await startStack(t, { gatewayEnv: { TWITCH_INGEST_URL: ingest.url } })
  // Spacing, key order and escapes a parser would normalise: the signature covers these bytes.
  const body = '{"subscription":{"type":"channel.follow" ,"id":"x"},\n "event":{"user_name":"Caf\\u00e9 ☕","b":1.50}}'
  const res = await fetch(`${stack.gatewayUrl}/webhooks/twitch`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      origin: 'https://twitch.example',
      'twitch-eventsub-message-id': 'abc',
      'twitch-eventsub-message-signature': `sha256=${'0'.repeat(64)}`,
      'twitch-eventsub-message-timestamp': '2026-12-02T01:00:00.123456789Z',
      'twitch-eventsub-message-type': 'webhook_callback_verification'
    },
    body
  })
  t.equal(res.status, 200, 'no session asked for, no cross-site refusal')
  t.equal(await res.text(), 'the-challenge', 'the answer comes back as it was')
  t.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
  // (The gateway also reads the service's API reference.)
  const posts = ingest.seen.filter((s) => s.method === 'POST')
  t.equal(posts.length, 1)
  const [got] = posts
  t.equal(got!.url, '/webhooks/twitch')
  t.ok(got!.body.equals(Buffer.from(body, 'utf8')), 'the same bytes')
  t.equal(got!.headers['twitch-eventsub-message-id'], 'abc')
  t.equal(got!.headers['twitch-eventsub-message-timestamp'], '2026-12-02T01:00:00.123456789Z')
  t.equal(got!.headers.cookie, undefined)
})

t.test('provider webhooks have a per-address budget of their own: Twitch\'s deliveries neither spend nor meet the anonymous one', async (t) => {
  const ingest = await recorder(t)
  const stack = await startStack(t, { gatewayEnv: { TWITCH_INGEST_URL: ingest.url, RATE_LIMIT_PER_ADDRESS: '2', RATE_LIMIT_WEBHOOKS_PER_ADDRESS: '5' } })
  const deliver = async () => await fetch(`${stack.gatewayUrl}/webhooks/twitch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) {
    const res = await deliver()
    statuses.push(res.status)
    if (i === 0) t.equal(res.headers.get('x-ratelimit-limit'), '5', 'the webhook budget')
  }
  t.same(statuses, [200, 200, 200, 200, 200], 'more deliveries from one address than the anonymous budget allows')
  const anonymous = await fetch(`${stack.gatewayUrl}/docs/json`)
  t.not(anonymous.status, 429, 'the address\'s anonymous budget is untouched')
  t.equal(anonymous.headers.get('x-ratelimit-remaining'), '1')
  const over = await deliver()
  t.equal(over.status, 429, 'the webhook budget is a budget too')
  t.ok(Number(over.headers.get('retry-after')) > 0)
})
